package adoptionclient

import (
	"context"
	"fmt"
	"io"

	pb "adoptionclient/adoptionpb"
)

// UpsertSeries creates or replaces the series, atomically and idempotently:
// either all are stored (durably) or none is.
func (c *Client) UpsertSeries(ctx context.Context, series ...*pb.Series) (*pb.UpsertSeriesResponse, error) {
	return c.rpc.UpsertSeries(ctx, &pb.UpsertSeriesRequest{Series: series})
}

// AppendPoints adds points after the last point of a stored series
// (what a periodic job does). Points already stored with the same value are
// accepted unchanged (retries are harmless); another value at a stored t, a
// point before the end, or a decrease is INVALID_ARGUMENT naming points[i].
// Set req.ExpectedRevision for optimistic concurrency (ABORTED on a stale
// revision).
func (c *Client) AppendPoints(ctx context.Context, req *pb.AppendPointsRequest) (*pb.AppendPointsResponse, error) {
	return c.rpc.AppendPoints(ctx, req)
}

// GetSeries returns one series with its points; NOT_FOUND (see IsNotFound)
// if there is none with this id.
func (c *Client) GetSeries(ctx context.Context, id string) (*pb.Series, error) {
	return c.rpc.GetSeries(ctx, &pb.GetSeriesRequest{Id: id})
}

// ListSeries returns one page of series in id order. See ForEachSeries and
// ListAllSeries to go through every page.
func (c *Client) ListSeries(ctx context.Context, req *pb.ListSeriesRequest) (*pb.ListSeriesResponse, error) {
	return c.rpc.ListSeries(ctx, req)
}

// ForEachSeries calls fn for every series matching req (its PageToken is
// ignored: listing starts at the first page), in id order, fetching page
// after page. It stops at the first error, from the server or from fn, and
// returns it. req is not modified.
func (c *Client) ForEachSeries(ctx context.Context, req *pb.ListSeriesRequest, fn func(*pb.Series) error) error {
	page := &pb.ListSeriesRequest{}
	if req != nil {
		page.PageSize = req.PageSize
		page.MetadataFilter = req.MetadataFilter
		page.IncludePoints = req.IncludePoints
	}
	for {
		resp, err := c.rpc.ListSeries(ctx, page)
		if err != nil {
			return err
		}
		for _, s := range resp.Series {
			if err := fn(s); err != nil {
				return err
			}
		}
		if resp.NextPageToken == "" {
			return nil
		}
		page.PageToken = resp.NextPageToken
	}
}

// ListAllSeries returns every series matching req, over all pages.
func (c *Client) ListAllSeries(ctx context.Context, req *pb.ListSeriesRequest) ([]*pb.Series, error) {
	var all []*pb.Series
	err := c.ForEachSeries(ctx, req, func(s *pb.Series) error {
		all = append(all, s)
		return nil
	})
	return all, err
}

// DeleteSeries deletes one series: NOT_FOUND if it does not exist, unless
// req.AllowMissing (then Deleted is false).
func (c *Client) DeleteSeries(ctx context.Context, req *pb.DeleteSeriesRequest) (*pb.DeleteSeriesResponse, error) {
	return c.rpc.DeleteSeries(ctx, req)
}

// ListFitters lists the loaded fitter plugins and the refused ones.
func (c *Client) ListFitters(ctx context.Context) (*pb.ListFittersResponse, error) {
	return c.rpc.ListFitters(ctx, &pb.ListFittersRequest{})
}

// Fit fits one fitter to one series.
func (c *Client) Fit(ctx context.Context, req *pb.FitRequest) (*pb.FitResult, error) {
	resp, err := c.rpc.Fit(ctx, req)
	if err != nil {
		return nil, err
	}
	return resp.GetResult(), nil
}

// CompareModels fits several fitters to a selection of series and ranks
// them per series, with batch (and optionally per-group) summaries.
//
// req.Loss may be LossSSE or LossPoisson (adoptctl's --loss words) or the
// server's names; FitterOptions may come from CompareOptions. A selection
// that matches no series is an error (errors.Is(err, ErrEmptySelection),
// code NotFound) rather than a report of zeros. req is not modified.
func (c *Client) CompareModels(ctx context.Context, req *pb.CompareModelsRequest) (*pb.CompareModelsResponse, error) {
	req, err := normalizeCompare(req)
	if err != nil {
		return nil, err
	}
	resp, err := c.rpc.CompareModels(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp.SeriesCount == 0 {
		return nil, c.emptySelection(ctx, req.GetSelection())
	}
	return resp, nil
}

// CompareModelsStream runs CompareModels as a stream: fn sees every event in
// order (progress, batches of series reports in id order, and last the
// summary: the response without series). An error from fn stops the stream,
// which cancels the server's work, and is returned. The default timeout
// applies when ctx has no deadline.
func (c *Client) CompareModelsStream(ctx context.Context, req *pb.CompareModelsRequest,
	fn func(*pb.CompareModelsEvent) error) error {
	if _, ok := ctx.Deadline(); !ok && c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the server's work if fn gave up
	stream, err := c.rpc.CompareModelsStream(ctx, req)
	if err != nil {
		return wrapError("/adoption.v1.AdoptionService/CompareModelsStream", err)
	}
	for {
		event, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return wrapError("/adoption.v1.AdoptionService/CompareModelsStream", err)
		}
		if err := fn(event); err != nil {
			return err
		}
	}
}

// CompareModelsWithProgress is CompareModels through the stream: progress
// (if not nil) sees each CompareProgress, and the reports are assembled
// into the same response CompareModels returns.
func (c *Client) CompareModelsWithProgress(ctx context.Context, req *pb.CompareModelsRequest,
	progress func(*pb.CompareProgress)) (*pb.CompareModelsResponse, error) {
	var series []*pb.SeriesReport
	var summary *pb.CompareModelsResponse
	err := c.CompareModelsStream(ctx, req, func(e *pb.CompareModelsEvent) error {
		switch ev := e.Event.(type) {
		case *pb.CompareModelsEvent_Progress:
			if progress != nil {
				progress(ev.Progress)
			}
		case *pb.CompareModelsEvent_Series:
			series = append(series, ev.Series.Reports...)
		case *pb.CompareModelsEvent_Summary:
			summary = ev.Summary
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if summary == nil {
		return nil, fmt.Errorf("adoptionclient: the comparison stream ended without its summary")
	}
	summary.Series = series
	return summary, nil
}

// Forecast fits one fitter (or "combined") to one series and extrapolates
// it req.Horizon months past the last point. req.IntervalLevel must be in
// (0, 1), or 0 for the server's default 0.95 (an *Error with Field
// "interval_level" otherwise, before any call); req.Options may come from
// FitOptions.
func (c *Client) Forecast(ctx context.Context, req *pb.ForecastRequest) (*pb.ForecastResponse, error) {
	if err := checkInterval(req.GetIntervalLevel()); err != nil {
		return nil, err
	}
	return c.rpc.Forecast(ctx, req)
}

// Predict evaluates a fitter's curve with the given parameters (every one,
// in the fitter's order) at times t, on the series' history.
func (c *Client) Predict(ctx context.Context, req *pb.PredictRequest) ([]float64, error) {
	resp, err := c.rpc.Predict(ctx, req)
	if err != nil {
		return nil, err
	}
	return resp.GetValues(), nil
}

// Curve is the fit's curve at times t, computed by the server's plugin:
// Predict with the fit's parameters and options.
func (c *Client) Curve(ctx context.Context, fit *pb.FitResult, t []float64) ([]float64, error) {
	params := make([]float64, len(fit.GetParameters()))
	for i, p := range fit.GetParameters() {
		params[i] = p.GetValue()
	}
	return c.Predict(ctx, &pb.PredictRequest{SeriesId: fit.GetSeriesId(), Fitter: fit.GetFitter(),
		Options: fit.GetOptions(), Parameters: params, T: t})
}

// SelectIDs selects series by id.
func SelectIDs(ids ...string) *pb.SeriesSelector { return &pb.SeriesSelector{Ids: ids} }

// SelectAll selects every stored series.
func SelectAll() *pb.SeriesSelector { return &pb.SeriesSelector{All: true} }

// SelectByMetadata selects the series whose metadata has every given
// key/value pair: SelectByMetadata("company", "MistralAI"). It panics on an
// odd number of arguments (a programming error).
func SelectByMetadata(keyValues ...string) *pb.SeriesSelector {
	if len(keyValues)%2 != 0 {
		panic("adoptionclient.SelectByMetadata: odd number of arguments")
	}
	m := make(map[string]string, len(keyValues)/2)
	for i := 0; i < len(keyValues); i += 2 {
		m[keyValues[i]] = keyValues[i+1]
	}
	return &pb.SeriesSelector{MetadataFilter: m}
}

// NewDatedSeries builds a series with calendar time: origin is the date of
// t = 0 ("YYYY-MM-DD"), unit pb.TimeUnit_TIME_UNIT_MONTH or _DAY, and each
// point is given by its date ("YYYY-MM-DD"); the server turns dates into t
// (a month is a calendar month from the origin's day, clamped to the month's
// end) and returns every point with both. It panics if the lengths differ.
func NewDatedSeries(id, origin string, unit pb.TimeUnit, dates []string, values []float64) *pb.Series {
	if len(dates) != len(values) {
		panic("adoptionclient.NewDatedSeries: dates and values differ in length")
	}
	s := &pb.Series{Id: id, Origin: origin, TimeUnit: unit, Points: make([]*pb.Point, len(dates))}
	for i := range dates {
		s.Points[i] = &pb.Point{Date: dates[i], Value: values[i]}
	}
	return s
}

// NewSeries builds a series from parallel slices of times (months since the
// base model's creation) and cumulative values, without an origin date (the
// server returns its unit as MONTH, as set here). It panics if the lengths
// differ (a programming error).
func NewSeries(id string, t, values []float64) *pb.Series {
	if len(t) != len(values) {
		panic("adoptionclient.NewSeries: t and values differ in length")
	}
	s := &pb.Series{Id: id, TimeUnit: pb.TimeUnit_TIME_UNIT_MONTH, Points: make([]*pb.Point, len(t))}
	for i := range t {
		s.Points[i] = &pb.Point{T: t[i], Value: values[i]}
	}
	return s
}
