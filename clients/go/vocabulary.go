package adoptionclient

// The words every client shares with adoptctl and the Python client: the
// server's address, losses, fitter options, interval levels, empty
// selections and near ties.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "adoptionclient/adoptionpb"
)

// DefaultServer is the address used when neither Dial's addr nor
// $ADOPTION_SERVER names one (as adoptctl and the Python client).
const DefaultServer = "127.0.0.1:50051"

// DefaultAddress returns $ADOPTION_SERVER if set and not empty, else
// DefaultServer. Dial(ctx, "", opts) connects there.
func DefaultAddress() string {
	if addr := os.Getenv("ADOPTION_SERVER"); addr != "" {
		return addr
	}
	return DefaultServer
}

// Losses, as adoptctl compare --loss and Python's compare(loss=) name them.
// CompareModelsRequest.Loss may hold these or the server's names
// ("sse_cumulative", "poisson_deviance_increments"); CompareModels sends the
// server's.
const (
	LossSSE     = "sse"     // least squares on the cumulative series (default)
	LossPoisson = "poisson" // Poisson likelihood on the monthly increments
)

// LossName returns the server's name of a loss: "" (the server's default)
// for "", "sse_cumulative" for "sse", "poisson_deviance_increments" for
// "poisson" (the server's names map to themselves). Anything else is an
// *Error with code InvalidArgument and Field "loss".
func LossName(loss string) (string, error) {
	switch loss {
	case "":
		return "", nil
	case LossSSE, "sse_cumulative":
		return "sse_cumulative", nil
	case LossPoisson, "poisson_deviance_increments":
		return "poisson_deviance_increments", nil
	}
	return "", localError("CompareModels", codes.InvalidArgument, "loss",
		fmt.Sprintf("loss: expected sse or poisson (or poisson_deviance_increments, sse_cumulative), got %q", loss))
}

// NearTie is the margin below which a winner is not clear: when the
// runner-up's criterion value (AICc, or BIC when ranked by BIC) is within
// NearTie of the winner's, the data support both (Burnham & Anderson's rule
// of thumb). adoptctl and the Python report say "no clear winner".
const NearTie = 2.0

// WinnerMargin returns the runner-up of a series' winner (the ranked fit
// with the best criterion value after the winner's) and its value minus the
// winner's; runnerUp is nil without a winner or a second ranked fit.
// criterion is the comparison's (CompareModelsResponse.Criterion). A near
// tie is runnerUp != nil && margin <= NearTie.
func WinnerMargin(s *pb.SeriesReport, criterion pb.Criterion) (runnerUp *pb.FitResult, margin float64) {
	value := func(f *pb.FitResult) (float64, bool) {
		if criterion == pb.Criterion_CRITERION_BIC {
			return f.GetBic(), f.Bic != nil
		}
		return f.GetAicc(), f.Aicc != nil
	}
	var winner *pb.FitResult
	for _, f := range s.GetFits() {
		if f.Winner {
			winner = f
		}
	}
	if winner == nil {
		return nil, 0
	}
	best, ok := value(winner)
	if !ok {
		return nil, 0
	}
	for _, f := range s.GetFits() {
		v, ok := value(f)
		if f == winner || f.Rank <= 0 || !ok {
			continue
		}
		if runnerUp == nil || v-best < margin || (v-best == margin && f.Rank < runnerUp.Rank) {
			runnerUp, margin = f, v-best
		}
	}
	return runnerUp, margin
}

// OptionValue turns one option value into the string the request carries:
// strings as they are, bools as "true"/"false", integers and finite floats
// in decimal, fmt.Stringer by String(). name is how an error names the
// option, e.g. "citation.m".
func OptionValue(name string, v interface{}) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float32:
		return floatOption(name, float64(x), 32)
	case float64:
		return floatOption(name, x, 64)
	case fmt.Stringer:
		return x.String(), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10), nil
	}
	return "", fmt.Errorf("adoptionclient: option %s: expected a string, number or bool, got %T (%v)", name, v, v)
}

func floatOption(name string, v float64, bits int) (string, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "", fmt.Errorf("adoptionclient: option %s: must be finite, got %v", name, v)
	}
	return strconv.FormatFloat(v, 'g', -1, bits), nil
}

// FitOptions turns one fitter's options (Fit and Forecast; adoptctl fit
// --option m=100) into the request's map: FitOptions(map[string]interface{}{"m":
// 100, "time_unit": "months"}). A value of another type than string, number
// or bool is an error naming the option.
func FitOptions(options map[string]interface{}) (map[string]string, error) {
	out := make(map[string]string, len(options))
	for _, key := range sortedKeys(options) {
		if key == "" {
			return nil, errors.New("adoptionclient: option with an empty name")
		}
		if _, nested := options[key].(map[string]interface{}); nested {
			return nil, fmt.Errorf("adoptionclient: option %s: Fit and Forecast take one fitter's options "+
				"(e.g. {\"m\": 100}); per-fitter options are for CompareOptions", key)
		}
		v, err := OptionValue(key, options[key])
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
	return out, nil
}

// CompareOptions turns per-fitter options for CompareModels into
// CompareModelsRequest.FitterOptions. Keys are "fitter.option", as adoptctl
// compare --option citation.m=100, or a fitter name whose value is that
// fitter's options (map[string]interface{} or map[string]string):
//
//	CompareOptions(map[string]interface{}{"citation.m": 100})
//	CompareOptions(map[string]interface{}{"citation": map[string]interface{}{"m": "pooled"}})
//
// A key that is neither, a value of the wrong type or an option given twice
// with different values is an error naming the option.
func CompareOptions(options map[string]interface{}) (map[string]*pb.FitterOptions, error) {
	out := map[string]*pb.FitterOptions{}
	put := func(fitter, key string, v interface{}) error {
		name := fitter + "." + key
		if fitter == "" || key == "" {
			return fmt.Errorf("adoptionclient: option %q: empty fitter or option name", name)
		}
		text, err := OptionValue(name, v)
		if err != nil {
			return err
		}
		if out[fitter] == nil {
			out[fitter] = &pb.FitterOptions{Options: map[string]string{}}
		}
		if prev, ok := out[fitter].Options[key]; ok && prev != text {
			return fmt.Errorf("adoptionclient: option %s given twice (%q and %q)", name, prev, text)
		}
		out[fitter].Options[key] = text
		return nil
	}
	for _, key := range sortedKeys(options) {
		switch v := options[key].(type) {
		case map[string]interface{}:
			for _, opt := range sortedKeys(v) {
				if err := put(key, opt, v[opt]); err != nil {
					return nil, err
				}
			}
		case map[string]string:
			for opt, value := range v {
				if err := put(key, opt, value); err != nil {
					return nil, err
				}
			}
		default:
			fitter, opt, ok := strings.Cut(key, ".")
			if !ok {
				return nil, fmt.Errorf("adoptionclient: option %q: CompareOptions takes \"fitter.option\" keys "+
					"(e.g. \"citation.%s\") or a fitter's options as a map, got %T (%v)", key, key, v, v)
			}
			if err := put(fitter, opt, v); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ErrEmptySelection is matched (errors.Is) by the error CompareModels
// returns when the selection matched no series: a metadata filter nothing
// matches, or SelectAll on an empty store. The server answers such a
// request OK with SeriesCount 0; the client returns an *Error with code
// NotFound instead, whose message says what matched nothing and suggests
// near matches of a filter, as adoptctl and the Python client do.
var ErrEmptySelection = errors.New("adoptionclient: the selection matches no series")

// checkInterval refuses an interval level outside (0, 1). Go's zero value 0
// leaves the field unset (the server's 0.95).
func checkInterval(level float64) error {
	if level == 0 {
		return nil
	}
	if math.IsNaN(level) || level < 0 || level >= 1 {
		return localError("Forecast", codes.InvalidArgument, "interval_level",
			fmt.Sprintf("interval_level: must be in (0, 1) (e.g. 0.9; 0 for the default 0.95), got %v", level))
	}
	return nil
}

// normalizeCompare returns req with the server's loss name (a copy when it
// changes; req is not modified).
func normalizeCompare(req *pb.CompareModelsRequest) (*pb.CompareModelsRequest, error) {
	loss, err := LossName(req.GetLoss())
	if err != nil {
		return nil, err
	}
	if loss == req.GetLoss() {
		return req, nil
	}
	out := proto.Clone(req).(*pb.CompareModelsRequest)
	out.Loss = loss
	return out, nil
}

// emptySelection is the error for a CompareModels that matched no series.
func (c *Client) emptySelection(ctx context.Context, sel *pb.SeriesSelector) error {
	e := localError("CompareModels", codes.NotFound, "", emptySelectionMessage(ctx, c, sel))
	e.emptySelection = true
	return e
}

func emptySelectionMessage(ctx context.Context, c *Client, sel *pb.SeriesSelector) string {
	const head = "the selection matches no series: "
	if sel.GetAll() {
		return head + "the store is empty"
	}
	wanted := sel.GetMetadataFilter()
	if len(wanted) == 0 {
		return head + "no series has these ids"
	}
	keys := sortedKeys(wanted)
	what := make([]string, len(keys))
	for i, k := range keys {
		what[i] = k + "=" + wanted[k]
	}
	msg := head + "no series has metadata " + strings.Join(what, " ")
	values := map[string]map[string]bool{}
	for _, k := range keys {
		values[k] = map[string]bool{}
	}
	err := c.ForEachSeries(ctx, &pb.ListSeriesRequest{PageSize: 1000}, func(s *pb.Series) error {
		for _, k := range keys {
			if v, ok := s.Metadata[k]; ok {
				values[k][v] = true
			}
		}
		return nil
	})
	if err != nil { // the hint is a courtesy
		return msg
	}
	fold := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), "")) }
	var near, other []string
	for _, k := range keys {
		have := sortedKeys(values[k])
		close := ""
		for _, v := range have {
			if v != wanted[k] && fold(v) == fold(wanted[k]) {
				close = v
				break
			}
		}
		switch {
		case close != "":
			near = append(near, k+"="+close)
		case len(have) == 0:
			other = append(other, fmt.Sprintf("no series has the metadata key '%s'", k))
		case !values[k][wanted[k]]:
			listed := strings.Join(have, ", ")
			if len(have) > 12 {
				listed = fmt.Sprintf("%s, ... (%d values)", strings.Join(have[:12], ", "), len(have))
			}
			other = append(other, k+" is one of "+listed)
		}
	}
	switch {
	case len(near) > 0:
		msg += " (filters match exactly: did you mean " + strings.Join(near, " ") + "?)"
	case len(other) > 0:
		msg += " (" + strings.Join(other, "; ") + ")"
	}
	return msg
}

// localError is an *Error the client raises itself, before or after a call,
// shaped as the server's would be.
func localError(method string, code codes.Code, field, message string) *Error {
	return &Error{Method: method, Code: code, Message: message, Field: field,
		status: status.New(code, message)}
}
