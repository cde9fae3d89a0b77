package adoptionclient_test

import (
	"context"
	"errors"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	ac "adoptionclient"
	pb "adoptionclient/adoptionpb"
)

func dial(t *testing.T, opts ac.Options) *ac.Client {
	t.Helper()
	return dialTo(t, serverAddr, opts)
}

// dialTo connects to addr; the client is closed when the test ends.
func dialTo(t *testing.T, addr string, opts ac.Options) *ac.Client {
	t.Helper()
	c, err := ac.Dial(testContext(t), addr, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// wantError checks that err is an *Error with the code, method and (for
// INVALID_ARGUMENT) field, and that the standard status helpers see it.
func wantError(t *testing.T, err error, code codes.Code, method, field string) *ac.Error {
	t.Helper()
	var e *ac.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *adoptionclient.Error", err, err)
	}
	if e.Code != code || e.Method != method || e.Field != field {
		t.Fatalf("got code %v method %q field %q (%q), want %v %q %q", e.Code, e.Method, e.Field, e.Message, code, method, field)
	}
	if status.Code(err) != code || ac.Code(err) != code {
		t.Errorf("status.Code = %v, ac.Code = %v, want %v", status.Code(err), ac.Code(err), code)
	}
	if st, ok := status.FromError(err); !ok || st.Message() != e.Message {
		t.Errorf("status.FromError = %v, %v", st, ok)
	}
	if !strings.Contains(err.Error(), code.String()) || !strings.Contains(err.Error(), e.Message) {
		t.Errorf("Error() = %q lacks code or message", err.Error())
	}
	return e
}

func TestUpsertGetRoundTrip(t *testing.T) {
	c, ctx := dial(t, ac.Options{}), testContext(t)
	s := ac.NewSeries("go-test/round-trip", []float64{0, 1, 2, 3, 4}, []float64{0, 5, 12, 20, 26})
	s.Metadata = map[string]string{"company": "GoTest", "created_at": "2024-01-02T03:04:05Z"}
	s.Unit = "finetunes"

	resp, err := c.UpsertSeries(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Created != 1 || resp.Updated != 0 || resp.Unchanged != 0 {
		t.Fatalf("first upsert: %v", resp)
	}
	if resp, err = c.UpsertSeries(ctx, s); err != nil || resp.Unchanged != 1 {
		t.Fatalf("idempotent upsert: %v, %v", resp, err)
	}

	got, err := c.GetSeries(ctx, s.Id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Revision < 1 || got.UpdateTimeUnix < time.Now().Add(-time.Hour).Unix() {
		t.Errorf("output fields: revision %d update_time_unix %d", got.Revision, got.UpdateTimeUnix)
	}
	rev := got.Revision
	got.Revision, got.UpdateTimeUnix = 0, 0
	if !proto.Equal(got, s) {
		t.Fatalf("round trip:\n got %v\nwant %v", got, s)
	}

	s.Points = append(s.Points, &pb.Point{T: 5, Value: 30})
	if resp, err = c.UpsertSeries(ctx, s); err != nil || resp.Updated != 1 {
		t.Fatalf("changed upsert: %v, %v", resp, err)
	}
	if got, err = c.GetSeries(ctx, s.Id); err != nil || got.Revision <= rev || len(got.Points) != 6 {
		t.Fatalf("after update: %v, %v", got, err)
	}

	del, err := c.DeleteSeries(ctx, &pb.DeleteSeriesRequest{Id: s.Id})
	if err != nil || !del.Deleted {
		t.Fatalf("delete: %v, %v", del, err)
	}
	_, err = c.GetSeries(ctx, s.Id)
	wantError(t, err, codes.NotFound, "GetSeries", "")
}

func TestListAllSeriesPages(t *testing.T) {
	c, ctx := dial(t, ac.Options{}), testContext(t)
	req := &pb.ListSeriesRequest{PageSize: 5, MetadataFilter: map[string]string{"company": "MistralAI"}}

	first, err := c.ListSeries(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Series) != 5 || first.NextPageToken == "" || first.TotalSize != mistralSeries {
		t.Fatalf("first page: %d series, token %q, total %d", len(first.Series), first.NextPageToken, first.TotalSize)
	}

	all, err := c.ListAllSeries(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != mistralSeries {
		t.Fatalf("ListAllSeries: %d series, want %d", len(all), mistralSeries)
	}
	ids := make([]string, len(all))
	for i, s := range all {
		ids[i] = s.Id
		if s.Metadata["company"] != "MistralAI" || len(s.Points) != 0 {
			t.Errorf("%s: metadata %v, %d points (want none without include_points)", s.Id, s.Metadata, len(s.Points))
		}
	}
	if !sort.StringsAreSorted(ids) || ids[0] != first.Series[0].Id {
		t.Errorf("ids not in order from the first page: %v", ids)
	}
	if req.PageToken != "" {
		t.Error("ListAllSeries modified the request")
	}

	withPoints, err := c.ListAllSeries(ctx, &pb.ListSeriesRequest{PageSize: 7, IncludePoints: true,
		MetadataFilter: req.MetadataFilter})
	if err != nil || len(withPoints) != mistralSeries || len(withPoints[0].Points) == 0 {
		t.Fatalf("with points: %d series, %v", len(withPoints), err)
	}

	// Every stored series, 1000 a page (the tests' own are deleted again).
	everything, err := c.ListAllSeries(ctx, &pb.ListSeriesRequest{PageSize: 1000})
	if err != nil || len(everything) < bundledSeries {
		t.Fatalf("all series: %d, %v", len(everything), err)
	}
	seenIDs := map[string]bool{}
	for i, s := range everything {
		if seenIDs[s.Id] || (i > 0 && s.Id <= everything[i-1].Id) {
			t.Fatalf("page boundary repeated or reordered %q", s.Id)
		}
		seenIDs[s.Id] = true
	}

	// fn's error stops the iteration and comes back unchanged.
	stop := errors.New("stop")
	seen := 0
	err = c.ForEachSeries(ctx, req, func(*pb.Series) error {
		if seen++; seen == 7 {
			return stop
		}
		return nil
	})
	if err != stop || seen != 7 {
		t.Fatalf("ForEachSeries: err %v after %d series", err, seen)
	}
}

func TestNotFound(t *testing.T) {
	c, ctx := dial(t, ac.Options{}), testContext(t)
	_, err := c.GetSeries(ctx, "go-test/no-such-series")
	e := wantError(t, err, codes.NotFound, "GetSeries", "")
	if !ac.IsNotFound(err) || !strings.Contains(e.Message, "go-test/no-such-series") {
		t.Errorf("message %q should name the id", e.Message)
	}

	_, err = c.DeleteSeries(ctx, &pb.DeleteSeriesRequest{Id: "go-test/no-such-series"})
	wantError(t, err, codes.NotFound, "DeleteSeries", "")
	del, err := c.DeleteSeries(ctx, &pb.DeleteSeriesRequest{Id: "go-test/no-such-series", AllowMissing: true})
	if err != nil || del.Deleted {
		t.Fatalf("allow_missing: %v, %v", del, err)
	}

	_, err = c.Forecast(ctx, &pb.ForecastRequest{SeriesId: "go-test/no-such-series", Fitter: "logistic", Horizon: 3})
	wantError(t, err, codes.NotFound, "Forecast", "")
}

func TestInvalidArgumentNamesField(t *testing.T) {
	c, ctx := dial(t, ac.Options{}), testContext(t)
	good := ac.NewSeries("go-test/good", []float64{0, 1, 2}, []float64{0, 1, 2})
	cases := []struct {
		name, method, field string
		call                func() error
	}{
		{"decreasing value", "UpsertSeries", "series[1].points[2].value", func() error {
			_, err := c.UpsertSeries(ctx, good, ac.NewSeries("go-test/bad", []float64{0, 1, 2}, []float64{0, 5, 3}))
			return err
		}},
		{"NaN value", "UpsertSeries", "series[0].points[1].value", func() error {
			_, err := c.UpsertSeries(ctx, ac.NewSeries("go-test/nan", []float64{0, 1}, []float64{0, math.NaN()}))
			return err
		}},
		{"empty request", "UpsertSeries", "series", func() error {
			_, err := c.UpsertSeries(ctx)
			return err
		}},
		{"horizon out of range", "Forecast", "horizon", func() error {
			_, err := c.Forecast(ctx, &pb.ForecastRequest{SeriesId: "mistralai/Mistral-7B-v0.1", Fitter: "logistic", Horizon: 0})
			return err
		}},
		{"unknown fitter", "Fit", "fitter", func() error {
			_, err := c.Fit(ctx, &pb.FitRequest{SeriesId: "mistralai/Mistral-7B-v0.1", Fitter: "no-such-fitter"})
			return err
		}},
		{"bad page token", "ListSeries", "page_token", func() error {
			_, err := c.ListSeries(ctx, &pb.ListSeriesRequest{PageToken: "garbage"})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			wantError(t, tc.call(), codes.InvalidArgument, tc.method, tc.field)
		})
	}
	// Atomic: the valid series of the refused request was not stored.
	if _, err := c.GetSeries(ctx, "go-test/good"); !ac.IsNotFound(err) {
		t.Errorf("refused upsert stored a series: %v", err)
	}
}

func TestListFitters(t *testing.T) {
	c, ctx := dial(t, ac.Options{}), testContext(t)
	resp, err := c.ListFitters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*pb.FitterInfo{}
	for _, f := range resp.Fitters {
		byName[f.Name] = f
	}
	for _, name := range []string{"citation", "logistic", "gompertz", "bass", "powerlaw", "naive"} {
		if byName[name] == nil {
			t.Errorf("fitter %q not loaded (have %v)", name, resp.Fitters)
		}
	}
	if f := byName["naive"]; f != nil && !f.ForecastBaseline {
		t.Error("naive is not marked as a forecast baseline")
	}
	if f := byName["two_wave"]; f == nil || !f.OptIn {
		t.Errorf("two_wave not loaded or not marked opt-in: %v", f)
	}
	if f := byName["citation"]; f != nil && len(f.Parameters) != 4 {
		t.Errorf("citation parameters: %v", f.Parameters)
	}
	if len(resp.Rejected) != 0 {
		t.Errorf("rejected plugins: %v", resp.Rejected)
	}
}

// CompareModels on the 23 MistralAI series of the bundled (real) data.
func TestCompareModelsMistral(t *testing.T) {
	c, ctx := dial(t, ac.Options{}), testContext(t)
	rep, err := c.CompareModels(ctx, &pb.CompareModelsRequest{
		Selection: ac.SelectByMetadata("company", "MistralAI"),
		GroupBy:   "company",
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.SeriesCount != mistralSeries || len(rep.Series) != mistralSeries {
		t.Fatalf("series_count %d, %d reports", rep.SeriesCount, len(rep.Series))
	}
	// Short histories (4 points) cannot rank anything, one series fits badly,
	// the rest have a winner with R^2 >= 0.95.
	if rep.NotEnoughData < 2 || rep.DoesNotFit < 1 || rep.SeriesCount-rep.NotEnoughData-rep.DoesNotFit < 15 {
		t.Errorf("verdict counts: not_enough_data %d does_not_fit %d of %d", rep.NotEnoughData, rep.DoesNotFit, rep.SeriesCount)
	}
	if len(rep.Groups) != 1 || rep.Groups[0].Value != "MistralAI" || rep.Groups[0].Series != mistralSeries {
		t.Errorf("groups: %v", rep.Groups)
	}

	wins := map[string]int32{}
	for _, f := range rep.Fitters {
		wins[f.Fitter] = f.Wins
	}
	var totalWins int32
	for _, w := range wins {
		totalWins += w
	}
	if totalWins != rep.SeriesCount-rep.NotEnoughData {
		t.Errorf("wins %v sum to %d, want %d", wins, totalWins, rep.SeriesCount-rep.NotEnoughData)
	}
	if wins["naive"] != 0 {
		t.Error("the naive baseline must never win by AICc")
	}

	byID := map[string]*pb.SeriesReport{}
	for _, s := range rep.Series {
		byID[s.SeriesId] = s
		checkSeriesReport(t, s)
	}
	// The flagship: long history, the citation model wins and explains it.
	m7 := byID["mistralai/Mistral-7B-v0.1"]
	if m7 == nil || m7.Verdict != pb.SeriesVerdict_SERIES_VERDICT_FITS || m7.Winner != "citation" || m7.N != 18 || m7.LastValue != 3848 {
		t.Errorf("Mistral-7B-v0.1: %v", m7)
	}
	if s := byID["mistralai/Mamba-Codestral-7B-v0.1"]; s == nil || s.Verdict != pb.SeriesVerdict_SERIES_VERDICT_DOES_NOT_FIT ||
		!strings.Contains(s.VerdictReason, "R^2") {
		t.Errorf("Mamba-Codestral-7B-v0.1: %v", s)
	}
	if s := byID["mistralai/Pixtral-Large-Instruct-2411"]; s == nil || s.Verdict != pb.SeriesVerdict_SERIES_VERDICT_NOT_ENOUGH_DATA || s.Winner != "" {
		t.Errorf("Pixtral-Large-Instruct-2411: %v", s)
	}
}

// checkSeriesReport checks one series' ranking is self-consistent: one
// winner among the ranked fits, Akaike weights summing to 1, the winner with
// rank 1 and the best AICc, and the verdict matching its R^2.
func checkSeriesReport(t *testing.T, s *pb.SeriesReport) {
	t.Helper()
	var winners []*pb.FitResult
	weights, bestAICc := 0.0, math.Inf(1)
	for _, f := range s.Fits {
		if f.Winner {
			winners = append(winners, f)
		}
		if f.Rank > 0 {
			weights += f.GetAkaikeWeight()
			bestAICc = math.Min(bestAICc, f.GetAicc())
		}
		if f.ForecastBaseline && f.Rank != 0 {
			t.Errorf("%s: baseline %s ranked", s.SeriesId, f.Fitter)
		}
	}
	if s.Winner == "" {
		if len(winners) != 0 || s.Verdict != pb.SeriesVerdict_SERIES_VERDICT_NOT_ENOUGH_DATA {
			t.Errorf("%s: no winner but verdict %v", s.SeriesId, s.Verdict)
		}
		return
	}
	if len(winners) != 1 || winners[0].Fitter != s.Winner || winners[0].Rank != 1 || winners[0].GetAicc() != bestAICc {
		t.Errorf("%s: winner %q, flagged %v", s.SeriesId, s.Winner, winners)
		return
	}
	if math.Abs(weights-1) > 1e-6 {
		t.Errorf("%s: Akaike weights sum to %g", s.SeriesId, weights)
	}
	fits := winners[0].R2 >= 0.95
	if fits != (s.Verdict == pb.SeriesVerdict_SERIES_VERDICT_FITS) {
		t.Errorf("%s: winner R^2 %.4f but verdict %v", s.SeriesId, winners[0].R2, s.Verdict)
	}
}

func TestFit(t *testing.T) {
	c, ctx := dial(t, ac.Options{}), testContext(t)
	r, err := c.Fit(ctx, &pb.FitRequest{SeriesId: "mistralai/Mistral-7B-v0.1", Fitter: "citation"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != pb.FitStatus_FIT_STATUS_CONVERGED || r.N != 18 || r.R2 < 0.95 || r.Aicc == nil {
		t.Fatalf("fit: %v", r)
	}
	params := map[string]*pb.Parameter{}
	for _, p := range r.Parameters {
		params[p.Name] = p
	}
	if m := params["m"]; m == nil || !m.Fixed || m.Value != 1 {
		t.Errorf("citation m should be fixed at 1 by default: %v", m)
	}
	if l := params["lambda"]; l == nil || l.Value <= 0 || l.StdError == nil || l.GetCiLow() > l.Value || l.GetCiHigh() < l.Value {
		t.Errorf("lambda: %v", l)
	}

	_, err = c.Fit(ctx, &pb.FitRequest{SeriesId: "mistralai/Mistral-7B-v0.1", Fitter: "citation",
		Options: map[string]string{"no_such_option": "1"}})
	if ac.Code(err) != codes.InvalidArgument {
		t.Errorf("unknown option: %v", err)
	}
}

func TestForecast(t *testing.T) {
	c, ctx := dial(t, ac.Options{}), testContext(t)
	const id, horizon = "mistralai/Mistral-7B-v0.1", 6
	s, err := c.GetSeries(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	last := s.Points[len(s.Points)-1]
	for _, fitter := range []string{"logistic", "citation", "naive"} {
		t.Run(fitter, func(t *testing.T) {
			f, err := c.Forecast(ctx, &pb.ForecastRequest{SeriesId: id, Fitter: fitter, Horizon: horizon})
			if err != nil {
				t.Fatal(err)
			}
			if f.SeriesId != id || f.Fitter != fitter || f.Fit == nil || len(f.Points) != horizon {
				t.Fatalf("forecast: %v", f)
			}
			if f.IntervalLevel != 0.95 {
				t.Errorf("interval level %g, want the default 0.95", f.IntervalLevel)
			}
			if f.IntervalMethod != "conformal" {
				t.Errorf("interval method %q, want conformal", f.IntervalMethod)
			}
			prev := last.Value
			for i, p := range f.Points {
				if p.T != last.T+float64(i+1) {
					t.Errorf("point %d at t=%g, want %g", i, p.T, last.T+float64(i+1))
				}
				if p.Value < prev || math.IsNaN(p.Value) {
					t.Errorf("point %d value %g below %g: a cumulative forecast cannot fall", i, p.Value, prev)
				}
				prev = p.Value
				// A 17-month series growing steadily: every forecaster gets a
				// conformal interval on every point.
				if p.Lower == nil || p.Upper == nil {
					t.Fatalf("point %d has no interval (lower %v, upper %v; method %q)", i, p.Lower, p.Upper, f.IntervalMethod)
				}
				if p.GetLower() > p.Value || p.GetUpper() < p.Value || p.GetLower() < last.Value {
					t.Errorf("point %d interval [%g, %g] around %g", i, p.GetLower(), p.GetUpper(), p.Value)
				}
			}
		})
	}
}

func TestDeadlineAndCancellation(t *testing.T) {
	c := dial(t, ac.Options{})
	// A comparison over every stored series (3,130, cross-validated) takes
	// seconds.
	req := &pb.CompareModelsRequest{Selection: ac.SelectAll()}

	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	_, err := c.CompareModels(ctx, req)
	wantError(t, err, codes.DeadlineExceeded, "CompareModels", "")
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(%v, context.DeadlineExceeded) should hold", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = c.CompareModels(ctx, req)
	wantError(t, err, codes.Canceled, "CompareModels", "")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(%v, context.Canceled) should hold", err)
	}

	// Options.DefaultTimeout bounds calls whose context has no deadline...
	short := dial(t, ac.Options{DefaultTimeout: time.Millisecond})
	_, err = short.CompareModels(context.Background(), req)
	wantError(t, err, codes.DeadlineExceeded, "CompareModels", "")
	// ...but not calls that bring their own.
	if _, err := short.ListFitters(testContext(t)); err != nil {
		t.Errorf("explicit deadline overrides DefaultTimeout: %v", err)
	}

	// The connection is still usable after cancelled calls, and the server
	// stopped the abandoned work: a small comparison is not stuck behind it.
	start := time.Now()
	if _, err := c.CompareModels(testContext(t), &pb.CompareModelsRequest{
		Selection: ac.SelectIDs("mistralai/Mistral-7B-v0.1")}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("a one-series comparison took %v after the cancellations", d)
	}
}

func TestRawStubSharesWrapping(t *testing.T) {
	c, ctx := dial(t, ac.Options{Block: true}), testContext(t)
	_, err := c.Raw().GetSeries(ctx, &pb.GetSeriesRequest{Id: "go-test/absent"})
	wantError(t, err, codes.NotFound, "GetSeries", "")
}

func TestCompareModelsStream(t *testing.T) {
	c, ctx := dial(t, ac.Options{}), testContext(t)
	req := &pb.CompareModelsRequest{Selection: ac.SelectByMetadata("company", "MistralAI"), GroupBy: "company"}
	unary, err := c.CompareModels(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var progress []*pb.CompareProgress
	streamed, err := c.CompareModelsWithProgress(ctx, req, func(p *pb.CompareProgress) {
		progress = append(progress, p)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(progress) == 0 {
		t.Fatal("no progress events")
	}
	last := progress[len(progress)-1]
	if last.FitsDone != last.FitsTotal || last.Phase != "compare" || last.SeriesDone != unary.SeriesCount {
		t.Errorf("last progress %v", last)
	}
	if len(streamed.Series) != len(unary.Series) || streamed.SeriesCount != unary.SeriesCount {
		t.Fatalf("streamed %d series (count %d), unary %d", len(streamed.Series), streamed.SeriesCount, len(unary.Series))
	}
	for i := range unary.Series {
		if streamed.Series[i].SeriesId != unary.Series[i].SeriesId || streamed.Series[i].Winner != unary.Series[i].Winner {
			t.Errorf("series %d: streamed %s/%s, unary %s/%s", i, streamed.Series[i].SeriesId,
				streamed.Series[i].Winner, unary.Series[i].SeriesId, unary.Series[i].Winner)
		}
	}
	// An error from the callback stops the stream and comes back.
	stop := errors.New("enough")
	if err := c.CompareModelsStream(ctx, &pb.CompareModelsRequest{Selection: ac.SelectAll()},
		func(*pb.CompareModelsEvent) error { return stop }); err != stop {
		t.Errorf("got %v, want the callback's error", err)
	}
	// Errors are the unary ones.
	err = c.CompareModelsStream(ctx, &pb.CompareModelsRequest{Selection: ac.SelectAll(), Fitters: []string{"nope"}},
		func(*pb.CompareModelsEvent) error { return nil })
	if ac.Code(err) != codes.InvalidArgument {
		t.Errorf("unknown fitter: %v", err)
	}
}

func TestCurveFromTheServer(t *testing.T) {
	c, ctx := dial(t, ac.Options{}), testContext(t)
	series, err := c.GetSeries(ctx, "mistralai/Mistral-7B-v0.1")
	if err != nil {
		t.Fatal(err)
	}
	fit, err := c.Fit(ctx, &pb.FitRequest{SeriesId: series.Id, Fitter: "citation",
		Options: map[string]string{"m": "100", "time_unit": "months"}})
	if err != nil {
		t.Fatal(err)
	}
	if fit.Options["m"] != "100" {
		t.Errorf("fit options %v", fit.Options)
	}
	times := make([]float64, len(series.Points))
	for i, p := range series.Points {
		times[i] = p.T
	}
	curve, err := c.Curve(ctx, fit, times)
	if err != nil {
		t.Fatal(err)
	}
	sse := 0.0
	for i, p := range series.Points {
		sse += (p.Value - curve[i]) * (p.Value - curve[i])
	}
	if math.Abs(sse-fit.Sse) > 1e-9*fit.Sse {
		t.Errorf("curve SSE %g, fit SSE %g", sse, fit.Sse)
	}
}

func TestAppendPointsAndRevisions(t *testing.T) {
	c, ctx := dial(t, ac.Options{}), testContext(t)
	id := "go/append-test"
	if _, err := c.UpsertSeries(ctx, ac.NewSeries(id, []float64{0, 1, 2}, []float64{0, 4, 9})); err != nil {
		t.Fatal(err)
	}
	resp, err := c.AppendPoints(ctx, &pb.AppendPointsRequest{SeriesId: id,
		Points: []*pb.Point{{T: 2, Value: 9}, {T: 3, Value: 15}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Appended != 1 || resp.AlreadyPresent != 1 || resp.Revision != 2 {
		t.Errorf("append: %v", resp)
	}
	stale := int64(1)
	_, err = c.AppendPoints(ctx, &pb.AppendPointsRequest{SeriesId: id,
		Points: []*pb.Point{{T: 4, Value: 20}}, ExpectedRevision: &stale})
	if ac.Code(err) != codes.Aborted {
		t.Errorf("stale revision: %v", err)
	}
	_, err = c.AppendPoints(ctx, &pb.AppendPointsRequest{SeriesId: id, Points: []*pb.Point{{T: 4, Value: 1}}})
	var e *ac.Error
	if !errors.As(err, &e) || e.Field != "points[0].value" {
		t.Errorf("decrease: %v", err)
	}
	// Upserting the newest month alone warns that it replaced the history.
	up, err := c.UpsertSeries(ctx, ac.NewSeries(id, []float64{5}, []float64{30}))
	if err != nil {
		t.Fatal(err)
	}
	if len(up.Warnings) != 1 || !strings.Contains(up.Warnings[0], "4 points replaced by 1") {
		t.Errorf("warnings %q", up.Warnings)
	}
}

func TestCalendarDates(t *testing.T) {
	c, ctx := dial(t, ac.Options{}), testContext(t)
	id := "go/calendar-test"
	s := ac.NewDatedSeries(id, "2024-01-31", pb.TimeUnit_TIME_UNIT_MONTH,
		[]string{"2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"}, []float64{0, 5, 12, 20})
	if _, err := c.UpsertSeries(ctx, s); err != nil {
		t.Fatal(err)
	}
	defer c.DeleteSeries(ctx, &pb.DeleteSeriesRequest{Id: id})
	got, err := c.GetSeries(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Origin != "2024-01-31" || got.TimeUnit != pb.TimeUnit_TIME_UNIT_MONTH {
		t.Errorf("calendar %q %v", got.Origin, got.TimeUnit)
	}
	for i, p := range got.Points {
		if p.T != float64(i) || p.Date != s.Points[i].Date {
			t.Errorf("point %d: t %v date %q", i, p.T, p.Date)
		}
	}
	if _, err := c.AppendPoints(ctx, &pb.AppendPointsRequest{SeriesId: id,
		Points: []*pb.Point{{Date: "2024-05-31", Value: 26}}}); err != nil {
		t.Fatal(err)
	}
	fc, err := c.Forecast(ctx, &pb.ForecastRequest{SeriesId: id, Fitter: "naive", Horizon: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(fc.Points) != 2 || fc.Points[0].T != 5 || fc.Points[0].Date != "2024-06-30" ||
		fc.Points[1].Date != "2024-07-31" {
		t.Errorf("forecast points %v", fc.Points)
	}
	_, err = c.AppendPoints(ctx, &pb.AppendPointsRequest{SeriesId: id,
		Points: []*pb.Point{{Date: "2023-12-31", Value: 30}}})
	var e *ac.Error
	if !errors.As(err, &e) || e.Field != "points[0].date" {
		t.Errorf("date before the origin: %v", err)
	}
}
