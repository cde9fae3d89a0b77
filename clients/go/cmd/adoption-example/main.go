// Command adoption-example shows the Go client end to end: it stores a small
// series, compares every fitter on a selection of series, prints the
// winners, and forecasts the series with the most adoption.
//
//	adoption-example -server 127.0.0.1:50051 -company MistralAI
//
// -server defaults to $ADOPTION_SERVER, else 127.0.0.1:50051. Offline on
// Debian, run it with clients/go/run-example (same flags).
//
// With no stored series of that company (e.g. a fresh server), it compares
// the example series it stored itself.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"text/tabwriter"
	"time"

	ac "adoptionclient"
	pb "adoptionclient/adoptionpb"
)

func main() {
	server := flag.String("server", ac.DefaultAddress(), "adoptiond address (default $ADOPTION_SERVER, else 127.0.0.1:50051)")
	company := flag.String("company", "MistralAI", "compare the series whose metadata company is this")
	horizon := flag.Int("horizon", 6, "forecast horizon, months")
	token := flag.String("token", "", "bearer token, if the server wants one (sent in clear without TLS)")
	flag.Parse()
	log.SetFlags(0)
	if err := run(*server, *company, *token, int32(*horizon)); err != nil {
		log.Fatalf("adoption-example: %v", err)
	}
}

func run(server, company, token string, horizon int32) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := ac.Dial(ctx, server, ac.Options{Token: token, AllowInsecureToken: true})
	if err != nil {
		return err
	}
	defer c.Close()

	// Monthly cumulative fine-tunes of apple/OpenELM (bundled data), stored
	// under another id. Upserting is idempotent: a second run changes nothing.
	demo := ac.NewSeries("example/OpenELM-copy",
		[]float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
		[]float64{0, 5, 42, 55, 76, 79, 80, 83, 86, 88, 89})
	demo.Metadata = map[string]string{"company": "example"}
	demo.Unit = "finetunes"
	up, err := c.UpsertSeries(ctx, demo)
	if err != nil {
		return err
	}
	fmt.Printf("stored %s: %d created, %d updated, %d unchanged\n", demo.Id, up.Created, up.Updated, up.Unchanged)

	page, err := c.ListSeries(ctx, &pb.ListSeriesRequest{PageSize: 1,
		MetadataFilter: map[string]string{"company": company}})
	if err != nil {
		return err
	}
	if page.TotalSize == 0 {
		fmt.Printf("no series of company %q stored; comparing the example series\n", company)
		company = "example"
	}

	rep, err := c.CompareModels(ctx, &pb.CompareModelsRequest{Selection: ac.SelectByMetadata("company", company)})
	if err != nil {
		return err
	}
	fmt.Printf("\ncompared %d series of %s in %.2f s: %d do not fit, %d without enough data\n",
		rep.SeriesCount, company, rep.ElapsedSeconds, rep.DoesNotFit, rep.NotEnoughData)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "series\tn\tlast\twinner\tR²\tweight\tverdict\tnote")
	var best *pb.SeriesReport
	for _, s := range rep.Series {
		r2, weight := "-", "-"
		for _, f := range s.Fits {
			if f.Winner {
				r2, weight = fmt.Sprintf("%.4f", f.R2), fmt.Sprintf("%.3f", f.GetAkaikeWeight())
			}
		}
		note := ""
		if runnerUp, margin := ac.WinnerMargin(s, rep.Criterion); runnerUp != nil && margin <= ac.NearTie {
			note = fmt.Sprintf("no clear winner: %s within %.2f AICc", runnerUp.Fitter, margin)
		}
		fmt.Fprintf(w, "%s\t%d\t%g\t%s\t%s\t%s\t%s\t%s\n", s.SeriesId, s.N, s.LastValue, orDash(s.Winner), r2, weight, verdict(s), note)
		if s.Verdict == pb.SeriesVerdict_SERIES_VERDICT_FITS && (best == nil || s.LastValue > best.LastValue) {
			best = s
		}
	}
	w.Flush()
	fmt.Println("\nwins per fitter:")
	for _, f := range rep.Fitters {
		fmt.Printf("  %-9s %3d  (median R² %.4f)\n", f.Fitter, f.Wins, f.MedianR2)
	}
	if best == nil {
		fmt.Println("\nno series fits well enough to forecast")
		return nil
	}

	fc, err := c.Forecast(ctx, &pb.ForecastRequest{SeriesId: best.SeriesId, Fitter: best.Winner, Horizon: horizon})
	if err != nil {
		return err
	}
	fmt.Printf("\nforecast of %s by %s (%.0f%% intervals, %s):\n", fc.SeriesId, fc.Fitter, 100*fc.IntervalLevel, fc.IntervalMethod)
	for _, p := range fc.Points {
		if p.Lower != nil {
			fmt.Printf("  month %3g  %10.1f  [%.1f, %.1f]\n", p.T, p.Value, p.GetLower(), p.GetUpper())
		} else {
			fmt.Printf("  month %3g  %10.1f\n", p.T, p.Value)
		}
	}
	for _, warning := range fc.Warnings {
		fmt.Println("  warning:", warning)
	}
	return nil
}

func verdict(s *pb.SeriesReport) string {
	switch s.Verdict {
	case pb.SeriesVerdict_SERIES_VERDICT_FITS:
		return "fits"
	case pb.SeriesVerdict_SERIES_VERDICT_DOES_NOT_FIT:
		return "does not fit: " + s.VerdictReason
	case pb.SeriesVerdict_SERIES_VERDICT_NOT_ENOUGH_DATA:
		return "not enough data"
	}
	return s.Verdict.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
