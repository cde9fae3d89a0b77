// clients/go/examples/quickstart/main.go: compare every fitter on one
// company's series, then forecast one series.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"

	ac "adoptionclient"
	pb "adoptionclient/adoptionpb"
)

func main() {
	ctx := context.Background()
	c, err := ac.Dial(ctx, "", ac.Options{}) // "": $ADOPTION_SERVER, else 127.0.0.1:50051
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	options, err := ac.CompareOptions(map[string]interface{}{"citation.time_unit": "months"})
	if err != nil {
		log.Fatal(err) // names the option whose value has the wrong type
	}
	rep, err := c.CompareModels(ctx, &pb.CompareModelsRequest{
		Selection:     ac.SelectByMetadata("company", "MistralAI"),
		FitterOptions: options,
		Loss:          ac.LossSSE, // or ac.LossPoisson, as adoptctl --loss
	})
	if errors.Is(err, ac.ErrEmptySelection) {
		log.Fatal(err) // "... no series has metadata company=...": load the data first
	} else if err != nil {
		log.Fatal(err) // *ac.Error: Code, Message, Field
	}
	for _, s := range rep.Series {
		note := ""
		if runnerUp, margin := ac.WinnerMargin(s, rep.Criterion); runnerUp != nil && margin <= ac.NearTie {
			note = "  (no clear winner: " + runnerUp.Fitter + ")"
		}
		fmt.Println(s.SeriesId, s.Winner, s.Verdict, note)
	}

	fc, err := c.Forecast(ctx, &pb.ForecastRequest{
		SeriesId: "mistralai/Mistral-7B-v0.1", Fitter: "combined", Horizon: 6, IntervalLevel: 0.9})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range fc.Points {
		fmt.Printf("month %g: %.0f [%.0f, %.0f]\n", p.T, p.Value, p.GetLower(), p.GetUpper())
	}
}
