// Package adoptionclient is the Go client of adoption-engine's gRPC API
// (proto/adoption/v1, generated into package adoptionpb).
//
// A Client wraps one connection. Its methods mirror the service, take a
// context first and return the proto messages of package adoptionpb; errors
// are *Error values carrying the gRPC code and the server's message (which
// names the offending field for INVALID_ARGUMENT).
//
//	c, err := adoptionclient.Dial(ctx, "127.0.0.1:50051", adoptionclient.Options{})
//	if err != nil { ... }
//	defer c.Close()
//	rep, err := c.CompareModels(ctx, &adoptionpb.CompareModelsRequest{
//		Selection: adoptionclient.SelectByMetadata("company", "MistralAI")})
//
// A Client is safe for concurrent use by multiple goroutines.
package adoptionclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	pb "adoptionclient/adoptionpb"
)

// Version of this client library, sent in the user agent.
const Version = "0.1.0"

// DefaultMaxRecvMsgSize is the default Options.MaxRecvMsgSize: a
// CompareModels over thousands of series with per-fitter results easily
// exceeds gRPC's 4 MiB default.
const DefaultMaxRecvMsgSize = 512 << 20

// Options configure Dial. The zero value is a plaintext connection with no
// token, no default timeout and 512 MiB responses.
type Options struct {
	// Token, if not empty, is sent on every RPC as
	// "authorization: Bearer <Token>". Requires TLS unless
	// AllowInsecureToken is set. Default: none.
	Token string
	// AllowInsecureToken permits sending Token over a plaintext connection
	// (e.g. to a loopback server in tests). Default: false.
	AllowInsecureToken bool
	// TLSConfig, if not nil, makes the connection use TLS with this
	// configuration. Default: nil.
	TLSConfig *tls.Config
	// TLSRootCertPEM, if not empty and TLSConfig is nil, makes the connection
	// use TLS, trusting the PEM certificates given (e.g. the server's
	// self-signed CA) instead of the system roots. Default: empty.
	TLSRootCertPEM []byte
	// TLSServerName overrides the name checked against the server's
	// certificate when TLSRootCertPEM is used. Default: the host of addr.
	TLSServerName string
	// MaxRecvMsgSize is the largest response accepted, in bytes. 0 means
	// DefaultMaxRecvMsgSize (512 MiB). The server caps its own messages
	// (adoptiond --max-message-mb, 64 MiB by default).
	MaxRecvMsgSize int
	// DefaultTimeout bounds every call whose context has no deadline. 0
	// means no bound (the server's --request-timeout still applies).
	DefaultTimeout time.Duration
	// Block makes Dial wait until the connection is up (bounded by Dial's
	// context). Default: false, Dial returns at once and connects lazily.
	Block bool
	// DialOptions are appended to the options Dial builds, for anything not
	// covered above (interceptors, keepalive, a custom dialer...).
	DialOptions []grpc.DialOption
}

// Validate reports an inconsistent configuration.
func (o *Options) Validate() error {
	secure := o.TLSConfig != nil || len(o.TLSRootCertPEM) > 0
	switch {
	case o.Token != "" && !secure && !o.AllowInsecureToken:
		return errors.New("adoptionclient: Options.Token needs TLS (TLSConfig or TLSRootCertPEM) or AllowInsecureToken")
	case o.MaxRecvMsgSize < 0:
		return errors.New("adoptionclient: Options.MaxRecvMsgSize must be >= 0")
	case o.DefaultTimeout < 0:
		return errors.New("adoptionclient: Options.DefaultTimeout must be >= 0")
	case o.TLSServerName != "" && len(o.TLSRootCertPEM) == 0:
		return errors.New("adoptionclient: Options.TLSServerName is used only with TLSRootCertPEM")
	}
	return nil
}

// Client is a connection to adoptiond. Safe for concurrent use; Close it
// when done (an open idle connection delays the server's graceful shutdown).
type Client struct {
	conn    *grpc.ClientConn
	rpc     pb.AdoptionServiceClient
	timeout time.Duration // Options.DefaultTimeout, for streams
}

// Dial connects to the adoptiond at addr ("host:port"); an empty addr means
// DefaultAddress(): $ADOPTION_SERVER, else 127.0.0.1:50051 (as adoptctl and
// the Python client).
func Dial(ctx context.Context, addr string, opts Options) (*Client, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if addr == "" {
		addr = DefaultAddress()
	}
	maxRecv := opts.MaxRecvMsgSize
	if maxRecv == 0 {
		maxRecv = DefaultMaxRecvMsgSize
	}
	dialOpts := []grpc.DialOption{
		grpc.WithUserAgent("adoptionclient-go/" + Version),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxRecv)),
		grpc.WithChainUnaryInterceptor(unaryInterceptor(opts.DefaultTimeout)),
	}
	switch {
	case opts.TLSConfig != nil:
		dialOpts = append(dialOpts, grpc.WithTransportCredentials(credentials.NewTLS(opts.TLSConfig)))
	case len(opts.TLSRootCertPEM) > 0:
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(opts.TLSRootCertPEM) {
			return nil, errors.New("adoptionclient: Options.TLSRootCertPEM holds no PEM certificate")
		}
		dialOpts = append(dialOpts, grpc.WithTransportCredentials(credentials.NewTLS(
			&tls.Config{RootCAs: pool, ServerName: opts.TLSServerName, MinVersion: tls.VersionTLS12})))
	default:
		dialOpts = append(dialOpts, grpc.WithInsecure())
	}
	if opts.Token != "" {
		dialOpts = append(dialOpts, grpc.WithPerRPCCredentials(bearerToken{
			token: opts.Token, requireTLS: !opts.AllowInsecureToken}))
	}
	if opts.Block {
		dialOpts = append(dialOpts, grpc.WithBlock())
	}
	dialOpts = append(dialOpts, opts.DialOptions...)
	conn, err := grpc.DialContext(ctx, addr, dialOpts...)
	if err != nil {
		return nil, fmt.Errorf("adoptionclient: dial %s: %w", addr, err)
	}
	return &Client{conn: conn, rpc: pb.NewAdoptionServiceClient(conn), timeout: opts.DefaultTimeout}, nil
}

// Close closes the connection; calls in flight fail with Canceled.
func (c *Client) Close() error { return c.conn.Close() }

// Raw returns the generated stub on the same connection (token, default
// timeout and *Error wrapping included), for what the methods below do not
// cover.
func (c *Client) Raw() pb.AdoptionServiceClient { return c.rpc }

// Conn returns the underlying connection (e.g. for the grpc.health.v1
// health service). Owned by the Client: do not close it.
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// bearerToken sends "authorization: Bearer <token>" with every call.
type bearerToken struct {
	token      string
	requireTLS bool
}

func (b bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

func (b bearerToken) RequireTransportSecurity() bool { return b.requireTLS }

// unaryInterceptor applies the default timeout to calls without a deadline
// and turns failures into *Error.
func unaryInterceptor(timeout time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply interface{},
		cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok && timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		return wrapError(method, invoker(ctx, method, req, reply, cc, opts...))
	}
}
