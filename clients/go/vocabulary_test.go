package adoptionclient_test

import (
	"bufio"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	ac "adoptionclient"
	pb "adoptionclient/adoptionpb"
)

const mistral7b = "mistralai/Mistral-7B-v0.1"

func TestDefaultAddressIsAdoptionServer(t *testing.T) {
	t.Setenv("ADOPTION_SERVER", "")
	if got := ac.DefaultAddress(); got != "127.0.0.1:50051" {
		t.Errorf("DefaultAddress() = %q without ADOPTION_SERVER", got)
	}
	t.Setenv("ADOPTION_SERVER", serverAddr)
	if got := ac.DefaultAddress(); got != serverAddr {
		t.Errorf("DefaultAddress() = %q, want %q", got, serverAddr)
	}
	c := dialTo(t, "", ac.Options{}) // "" dials $ADOPTION_SERVER
	fitters, err := c.ListFitters(testContext(t))
	if err != nil || len(fitters.Fitters) < 7 {
		t.Fatalf("ListFitters through $ADOPTION_SERVER: %v, %d fitters", err, len(fitters.GetFitters()))
	}
}

func TestLossWords(t *testing.T) {
	c := dial(t, ac.Options{})
	compare := func(loss string) (*pb.CompareModelsResponse, error) {
		return c.CompareModels(testContext(t), &pb.CompareModelsRequest{
			Selection: ac.SelectByMetadata("company", "MistralAI"), Fitters: []string{"logistic", "gompertz"},
			Loss: loss, CrossValidation: &pb.CrossValidationOptions{Disabled: true}})
	}
	short, err := compare(ac.LossPoisson)
	if err != nil {
		t.Fatal(err)
	}
	long, err := compare("poisson_deviance_increments")
	if err != nil {
		t.Fatal(err)
	}
	if short.Loss != "poisson_deviance_increments" || long.Loss != short.Loss {
		t.Errorf("losses %q and %q", short.Loss, long.Loss)
	}
	for i, s := range short.Series {
		if s.Winner != long.Series[i].Winner {
			t.Errorf("%s: winner %q with poisson, %q with its long name", s.SeriesId, s.Winner, long.Series[i].Winner)
		}
	}
	if sse, err := compare(ac.LossSSE); err != nil || sse.Loss != "sse_cumulative" {
		t.Errorf("sse: %v, loss %q", err, sse.GetLoss())
	}
	req := &pb.CompareModelsRequest{Selection: ac.SelectAll(), Loss: "gauss"}
	_, err = c.CompareModels(testContext(t), req)
	e := wantError(t, err, codes.InvalidArgument, "CompareModels", "loss")
	if !strings.Contains(e.Message, "expected sse or poisson") || req.Loss != "gauss" {
		t.Errorf("message %q; request changed to %q", e.Message, req.Loss)
	}
	if name, err := ac.LossName("poisson"); err != nil || name != "poisson_deviance_increments" {
		t.Errorf("LossName(poisson) = %q, %v", name, err)
	}
}

func TestOptionsHelpers(t *testing.T) {
	c := dial(t, ac.Options{})
	flat, err := ac.CompareOptions(map[string]interface{}{"citation.m": 100, "citation.time_unit": "months"})
	if err != nil {
		t.Fatal(err)
	}
	nested, err := ac.CompareOptions(map[string]interface{}{
		"citation": map[string]interface{}{"m": 100.0, "time_unit": "months"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string]map[string]*pb.FitterOptions{"flat": flat, "nested": nested} {
		rep, err := c.CompareModels(testContext(t), &pb.CompareModelsRequest{
			Selection: ac.SelectIDs(mistral7b), Fitters: []string{"citation"}, FitterOptions: opts,
			CrossValidation: &pb.CrossValidationOptions{Disabled: true}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, p := range rep.Series[0].Fits[0].Parameters {
			if p.Name == "m" && (p.Value != 100 || !p.Fixed) {
				t.Errorf("%s: m = %v (fixed %v), want 100", name, p.Value, p.Fixed)
			}
		}
	}
	fitOpts, err := ac.FitOptions(map[string]interface{}{"m": int64(100), "free_m": false})
	if err != nil || fitOpts["m"] != "100" || fitOpts["free_m"] != "false" {
		t.Fatalf("FitOptions = %v, %v", fitOpts, err)
	}
	fit, err := c.Fit(testContext(t), &pb.FitRequest{SeriesId: mistral7b, Fitter: "citation", Options: fitOpts})
	if err != nil || fit.Status != pb.FitStatus_FIT_STATUS_CONVERGED {
		t.Fatalf("Fit with FitOptions: %v %v", err, fit.GetStatus())
	}

	for _, tc := range []struct {
		options map[string]interface{}
		want    string
	}{
		{map[string]interface{}{"m": 100}, `option "m": CompareOptions takes "fitter.option" keys (e.g. "citation.m")`},
		{map[string]interface{}{"citation.m": []int{1, 2}}, "option citation.m: expected a string, number or bool, got []int"},
		{map[string]interface{}{"citation": map[string]interface{}{"m": nil}}, "option citation.m: expected a string, number or bool, got <nil>"},
		{map[string]interface{}{"citation.m": math.NaN()}, "option citation.m: must be finite"},
		{map[string]interface{}{"citation.m": 1, "citation": map[string]interface{}{"m": 2}}, "option citation.m given twice"},
	} {
		if _, err := ac.CompareOptions(tc.options); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CompareOptions(%v) = %v, want an error containing %q", tc.options, err, tc.want)
		}
	}
	if _, err := ac.FitOptions(map[string]interface{}{"citation": map[string]interface{}{"m": 1}}); err == nil ||
		!strings.Contains(err.Error(), "option citation: Fit and Forecast take one fitter's options") {
		t.Errorf("FitOptions(nested) = %v", err)
	}
	if _, err := ac.FitOptions(map[string]interface{}{"m": struct{}{}}); err == nil ||
		!strings.Contains(err.Error(), "option m: expected a string, number or bool, got struct {}") {
		t.Errorf("FitOptions(struct) = %v", err)
	}
}

func TestIntervalLevelInTheOpenUnitInterval(t *testing.T) {
	c := dial(t, ac.Options{})
	for _, bad := range []float64{1, 1.5, -0.1, math.NaN()} {
		_, err := c.Forecast(testContext(t), &pb.ForecastRequest{SeriesId: mistral7b, Fitter: "naive", Horizon: 2,
			IntervalLevel: bad})
		e := wantError(t, err, codes.InvalidArgument, "Forecast", "interval_level")
		if !strings.Contains(e.Message, "must be in (0, 1)") {
			t.Errorf("level %v: %q", bad, e.Message)
		}
	}
	fc, err := c.Forecast(testContext(t), &pb.ForecastRequest{SeriesId: mistral7b, Fitter: "naive", Horizon: 2})
	if err != nil || fc.IntervalLevel != 0.95 {
		t.Fatalf("default level: %v, %v", err, fc.GetIntervalLevel())
	}
	fc, err = c.Forecast(testContext(t), &pb.ForecastRequest{SeriesId: mistral7b, Fitter: "naive", Horizon: 2,
		IntervalLevel: 0.5})
	if err != nil || fc.IntervalLevel != 0.5 {
		t.Fatalf("level 0.5: %v, %v", err, fc.GetIntervalLevel())
	}
}

func TestEmptySelectionIsAnError(t *testing.T) {
	c := dial(t, ac.Options{})
	for _, tc := range []struct {
		selection *pb.SeriesSelector
		want      string
	}{
		{ac.SelectByMetadata("company", "meta"), "the selection matches no series: no series has metadata " +
			"company=meta (filters match exactly: did you mean company=Meta?)"},
		{ac.SelectByMetadata("colour", "red"), "(no series has the metadata key 'colour')"},
		{ac.SelectByMetadata("company", "Nobody"), "(company is one of AMAZON, "},
	} {
		rep, err := c.CompareModels(testContext(t), &pb.CompareModelsRequest{Selection: tc.selection})
		if rep != nil || !errors.Is(err, ac.ErrEmptySelection) {
			t.Fatalf("%v: got %v, %v; want ErrEmptySelection", tc.selection, rep, err)
		}
		e := wantError(t, err, codes.NotFound, "CompareModels", "")
		if !strings.Contains(e.Message, tc.want) {
			t.Errorf("message %q lacks %q", e.Message, tc.want)
		}
	}
	// Other errors are not ErrEmptySelection.
	_, err := c.CompareModels(testContext(t), &pb.CompareModelsRequest{Selection: ac.SelectIDs("no/such")})
	if ac.Code(err) != codes.NotFound || errors.Is(err, ac.ErrEmptySelection) {
		t.Errorf("unknown id: %v", err)
	}
}

func TestWinnerMargin(t *testing.T) {
	c := dial(t, ac.Options{})
	rep, err := c.CompareModels(testContext(t), &pb.CompareModelsRequest{
		Selection: ac.SelectByMetadata("company", "MistralAI"), CrossValidation: &pb.CrossValidationOptions{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	ties, checked := 0, 0
	for _, s := range rep.Series {
		runnerUp, margin := ac.WinnerMargin(s, rep.Criterion)
		if s.Winner == "" {
			if runnerUp != nil {
				t.Errorf("%s: runner-up without a winner", s.SeriesId)
			}
			continue
		}
		var w *pb.FitResult
		second := math.Inf(1)
		for _, f := range s.Fits {
			if f.Winner {
				w = f
			}
		}
		for _, f := range s.Fits {
			if f != w && f.Rank > 0 && f.Aicc != nil && f.GetAicc() < second {
				second = f.GetAicc()
			}
		}
		if math.IsInf(second, 1) { // the only ranked fit
			if runnerUp != nil {
				t.Errorf("%s: runner-up %s without a second ranked fit", s.SeriesId, runnerUp.Fitter)
			}
			continue
		}
		if runnerUp == nil || math.Abs(margin-(second-w.GetAicc())) > 1e-9 || runnerUp.GetAicc() != second {
			t.Errorf("%s: runner-up %v margin %v, want AICc %v", s.SeriesId, runnerUp.GetFitter(), margin, second)
		}
		if margin <= ac.NearTie {
			ties++
		}
		checked++
	}
	if checked < 10 || ties == 0 {
		t.Errorf("checked %d series, %d near ties", checked, ties)
	}
}

// The README's Go blocks are the files they name, and its run-example
// commands run verbatim (from the repository root) against the test server.
func TestReadmeRunsVerbatim(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the examples")
	}
	f, err := os.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var goBlocks []string
	var commands []string
	var block []string
	lang := ""
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		line := scanner.Text()
		switch {
		case lang == "" && strings.HasPrefix(line, "```"):
			lang, block = strings.TrimPrefix(line, "```"), nil
			if lang == "" {
				lang = "text"
			}
		case lang != "" && line == "```":
			if lang == "go" {
				goBlocks = append(goBlocks, strings.Join(block, "\n")+"\n")
			} else if lang == "sh" {
				for _, l := range block {
					if strings.HasPrefix(l, "clients/go/run-example") {
						commands = append(commands, l)
					}
				}
			}
			lang = ""
		case lang != "":
			block = append(block, line)
		}
	}
	if len(goBlocks) == 0 || len(commands) < 2 {
		t.Fatalf("README: %d go blocks, run-example commands %q", len(goBlocks), commands)
	}
	named := regexp.MustCompile(`^// (clients/go/\S+\.go):`)
	for _, b := range goBlocks {
		m := named.FindStringSubmatch(b)
		if m == nil {
			t.Errorf("a README Go block does not start with the file it is: %.60q", b)
			continue
		}
		file, err := os.ReadFile(filepath.Join("..", "..", m[1]))
		if err != nil || string(file) != b {
			t.Errorf("README block differs from %s (%v): keep them identical", m[1], err)
		}
	}
	for _, command := range commands {
		cmd := exec.Command("bash", "-c", command)
		cmd.Dir = filepath.Join("..", "..")
		cmd.Env = append(os.Environ(), "ADOPTION_SERVER="+serverAddr, "GOFLAGS=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", command, err, out)
			continue
		}
		for _, want := range []string{"mistralai/Mistral-7B-v0.1", "month "} {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s: output lacks %q:\n%s", command, want, out)
			}
		}
	}
}
