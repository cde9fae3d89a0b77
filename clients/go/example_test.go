package adoptionclient_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	ac "adoptionclient"
	pb "adoptionclient/adoptionpb"
)

// Compares every fitter on one company's series and forecasts a series.
// (Compiled by go test, not run: it needs a server.)
func Example() {
	ctx := context.Background()
	c, err := ac.Dial(ctx, "127.0.0.1:50051", ac.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	rep, err := c.CompareModels(ctx, &pb.CompareModelsRequest{Selection: ac.SelectByMetadata("company", "MistralAI")})
	if err != nil {
		log.Fatal(err) // e.g. "adoption CompareModels: InvalidArgument: selection...: ..."
	}
	for _, s := range rep.Series {
		fmt.Println(s.SeriesId, s.Winner, s.Verdict)
	}
	fc, err := c.Forecast(ctx, &pb.ForecastRequest{SeriesId: "mistralai/Mistral-7B-v0.1", Fitter: "citation", Horizon: 6})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range fc.Points {
		fmt.Printf("month %g: %.0f\n", p.T, p.Value)
	}
}

// Errors carry the gRPC code and, for INVALID_ARGUMENT, the field.
func ExampleError() {
	ctx := context.Background()
	c, _ := ac.Dial(ctx, "127.0.0.1:50051", ac.Options{})
	defer c.Close()
	_, err := c.UpsertSeries(ctx, ac.NewSeries("bad", []float64{0, 1}, []float64{5, 3}))
	var e *ac.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.Field) // InvalidArgument series[0].points[1].value
	}
	if ac.IsNotFound(err) {
		fmt.Println("no such series")
	}
}

// ForEachSeries walks every page of a listing.
func ExampleClient_ForEachSeries() {
	ctx := context.Background()
	c, _ := ac.Dial(ctx, "127.0.0.1:50051", ac.Options{})
	defer c.Close()
	err := c.ForEachSeries(ctx, &pb.ListSeriesRequest{MetadataFilter: map[string]string{"company": "Meta"}},
		func(s *pb.Series) error {
			fmt.Println(s.Id, s.Metadata["created_at"])
			return nil
		})
	if err != nil {
		log.Fatal(err)
	}
}
