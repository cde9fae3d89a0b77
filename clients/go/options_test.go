package adoptionclient_test

// Tests of the client alone, against an in-process fake server: options,
// the bearer token, the receive limit.

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	ac "adoptionclient"
	pb "adoptionclient/adoptionpb"
)

// fakeServer records the authorization header and answers ListFitters with
// a large description, and GetSeries with an InvalidArgument.
type fakeServer struct {
	pb.UnimplementedAdoptionServiceServer
	mu   sync.Mutex
	auth []string
}

func (f *fakeServer) ListFitters(ctx context.Context, _ *pb.ListFittersRequest) (*pb.ListFittersResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	f.auth = md.Get("authorization")
	f.mu.Unlock()
	return &pb.ListFittersResponse{Fitters: []*pb.FitterInfo{{Name: "big", Description: strings.Repeat("x", 5<<20)}}}, nil
}

func (f *fakeServer) GetSeries(context.Context, *pb.GetSeriesRequest) (*pb.Series, error) {
	return nil, status.Error(codes.InvalidArgument, `fitter_options["citation"].options: unknown key "x"`)
}

func startFake(t *testing.T) (*fakeServer, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	fake := &fakeServer{}
	pb.RegisterAdoptionServiceServer(srv, fake)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return fake, lis.Addr().String()
}

func TestBearerToken(t *testing.T) {
	fake, addr := startFake(t)
	c, err := ac.Dial(testContext(t), addr, ac.Options{Token: "s3cret", AllowInsecureToken: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ListFitters(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if len(fake.auth) != 1 || fake.auth[0] != "Bearer s3cret" {
		t.Fatalf("authorization metadata %q", fake.auth)
	}
}

func TestMaxRecvMsgSize(t *testing.T) {
	_, addr := startFake(t)
	// The default (512 MiB) accepts the 5 MiB response gRPC's 4 MiB default would refuse.
	c, err := ac.Dial(testContext(t), addr, ac.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ListFitters(testContext(t)); err != nil {
		t.Fatalf("5 MiB response: %v", err)
	}
	small, err := ac.Dial(testContext(t), addr, ac.Options{MaxRecvMsgSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	if _, err := small.ListFitters(testContext(t)); ac.Code(err) != codes.ResourceExhausted {
		t.Fatalf("1 MiB limit: %v", err)
	}
}

func TestFieldParsing(t *testing.T) {
	_, addr := startFake(t)
	c, err := ac.Dial(testContext(t), addr, ac.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.GetSeries(testContext(t), "x")
	wantError(t, err, codes.InvalidArgument, "GetSeries", `fitter_options["citation"].options`)
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		opts ac.Options
		ok   bool
	}{
		{ac.Options{}, true},
		{ac.Options{Token: "t"}, false}, // a token in clear needs consent
		{ac.Options{Token: "t", AllowInsecureToken: true}, true},
		{ac.Options{MaxRecvMsgSize: -1}, false},
		{ac.Options{DefaultTimeout: -1}, false},
		{ac.Options{TLSServerName: "x"}, false},
	} {
		err := tc.opts.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%+v: Validate() = %v", tc.opts, err)
		}
		if _, derr := ac.Dial(context.Background(), "127.0.0.1:1", tc.opts); (derr == nil) != tc.ok && !tc.ok {
			t.Errorf("%+v: Dial accepted invalid options", tc.opts)
		}
	}
	if _, err := ac.Dial(context.Background(), "127.0.0.1:1", ac.Options{TLSRootCertPEM: []byte("not pem")}); err == nil {
		t.Error("Dial accepted a TLSRootCertPEM without certificates")
	}
}
