package adoptionclient

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error is what every method returns when an RPC fails: the canonical gRPC
// status the server chose (or the transport produced), plus the method name.
//
// It works with the usual tools:
//
//	var e *adoptionclient.Error
//	if errors.As(err, &e) && e.Code == codes.InvalidArgument { log.Print(e.Field) }
//	status.Code(err) == codes.NotFound            // *Error has GRPCStatus()
//	st, _ := status.FromError(err)               // the original *status.Status
//	errors.Is(err, context.DeadlineExceeded)     // true for code DeadlineExceeded
//	errors.Is(err, context.Canceled)             // true for code Canceled
//	errors.Is(err, adoptionclient.ErrEmptySelection) // CompareModels matched no series
//
// Errors the client finds itself (an interval level outside (0, 1), an
// unknown loss, an empty selection) have the same shape: Field "interval_level"
// or "loss" with code InvalidArgument, NotFound for an empty selection.
type Error struct {
	// Method is the RPC's short name, e.g. "GetSeries".
	Method string
	// Code is the canonical gRPC status code.
	Code codes.Code
	// Message is the server's message. INVALID_ARGUMENT messages start with
	// the offending field, e.g. "series[3].points[7].value: must be finite".
	Message string
	// Field is the request field an INVALID_ARGUMENT message names
	// ("series[3].points[7].value"), or empty when it names none.
	Field string

	status         *status.Status
	emptySelection bool // CompareModels matched no series (ErrEmptySelection)
}

func (e *Error) Error() string {
	return fmt.Sprintf("adoption %s: %s: %s", e.Method, e.Code, e.Message)
}

// GRPCStatus returns the original status, so status.FromError and
// status.Code see through an *Error.
func (e *Error) GRPCStatus() *status.Status { return e.status }

// Is reports whether the error is the context error its code stands for, so
// errors.Is(err, context.DeadlineExceeded) and errors.Is(err,
// context.Canceled) hold for deadlines and cancellations, whether the
// client or the server noticed them first.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrEmptySelection:
		return e.emptySelection
	case context.DeadlineExceeded:
		return e.Code == codes.DeadlineExceeded
	case context.Canceled:
		return e.Code == codes.Canceled
	}
	return false
}

// Code returns the gRPC code of any error a Client method returned: OK for
// nil, Unknown for errors that carry no status.
func Code(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return status.Code(err)
}

// IsNotFound reports whether err is a NOT_FOUND status (e.g. GetSeries on an
// unknown id).
func IsNotFound(err error) bool { return Code(err) == codes.NotFound }

// fieldPath matches the field prefix of the server's INVALID_ARGUMENT
// messages: "series", "series[3].points[7].value", "selection.ids",
// "fitter_options[\"citation\"].options" and the like.
var fieldPath = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\]|\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// wrapError turns the error of the RPC `method` ("/pkg.Service/Name") into
// an *Error. Errors without a gRPC status are returned unchanged.
func wrapError(method string, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	e := &Error{
		Method:  method[strings.LastIndexByte(method, '/')+1:],
		Code:    st.Code(),
		Message: st.Message(),
		status:  st,
	}
	if e.Code == codes.InvalidArgument {
		if i := strings.Index(e.Message, ": "); i > 0 && fieldPath.MatchString(e.Message[:i]) {
			e.Field = e.Message[:i]
		}
	}
	return e
}
