package runreport

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReport_inBrowser opens a report in headless Chromium and checks that
// it loads with no console error and no network request, that every
// section is there, and, on a full-page screenshot, that every chart has
// drawn colored marks (its series), not only axes and text. With
// LAMBDAFAN_REPORT_SCREENSHOT set, the screenshot is also written there.
func TestReport_inBrowser(t *testing.T) {
	bin := findChromium(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	a := New()
	syntheticRun(20_000, 5, func(line []byte) {
		rec, err := ParseRecord(line)
		if err != nil {
			t.Fatal(err)
		}
		a.Add(&rec)
	})
	var doc bytes.Buffer
	if err := a.Report(Options{Sources: []string{"synthetic"}}).WriteHTML(&doc); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, doc.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	url := "file://" + path

	b := startBrowser(t, bin)
	var target struct{ TargetID string }
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		t.Fatal(err)
	}
	var attached struct{ SessionID string }
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		t.Fatal(err)
	}
	s := attached.SessionID
	for _, m := range []string{"Runtime.enable", "Log.enable", "Network.enable", "Page.enable"} {
		if err := b.call(ctx, s, m, map[string]any{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.call(ctx, s, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": 1100, "height": 900, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		t.Fatal(err)
	}
	var nav struct{ ErrorText string }
	if err := b.call(ctx, s, "Page.navigate", map[string]any{"url": url}, &nav); err != nil || nav.ErrorText != "" {
		t.Fatalf("navigate: %v %s", err, nav.ErrorText)
	}
	if err := b.waitEvent(ctx, s, "Page.loadEventFired"); err != nil {
		t.Fatal(err)
	}

	// What the page is made of, as the browser laid it out.
	var eval struct {
		Result struct{ Value string }
	}
	const layout = `JSON.stringify({
		sections: [...document.querySelectorAll("section")].map(e => e.id),
		charts: [...document.querySelectorAll("svg.chart")].map(e => {
			const r = e.getBoundingClientRect();
			return {label: e.getAttribute("aria-label"), x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height};
		}),
		rows: document.querySelectorAll("tr").length,
		width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight,
	})`
	if err := b.call(ctx, s, "Runtime.evaluate", map[string]any{"expression": layout, "returnByValue": true}, &eval); err != nil {
		t.Fatal(err)
	}
	var page struct {
		Sections []string
		Charts   []struct {
			Label      string
			X, Y, W, H float64
		}
		Rows          int
		Width, Height int
	}
	if err := json.Unmarshal([]byte(eval.Result.Value), &page); err != nil {
		t.Fatalf("layout %q: %v", eval.Result.Value, err)
	}
	if want := "summary throughput latency throttles histogram lambda functions errors slowest"; strings.Join(page.Sections, " ") != want {
		t.Errorf("sections %v, want %s", page.Sections, want)
	}
	if len(page.Charts) != 5 {
		t.Fatalf("%d charts laid out, want 5: %+v", len(page.Charts), page.Charts)
	}

	var shot struct{ Data string }
	if err := b.call(ctx, s, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": page.Width, "height": page.Height, "scale": 1}}, &shot); err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		t.Fatal(err)
	}
	if out := os.Getenv("LAMBDAFAN_REPORT_SCREENSHOT"); out != "" {
		if err := os.WriteFile(out, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	t.Logf("screenshot %v of a %d×%d page with %d table rows", img.Bounds().Size(), page.Width, page.Height, page.Rows)
	for _, c := range page.Charts {
		area := image.Rect(int(c.X), int(c.Y), int(c.X+c.W), int(c.Y+c.H))
		n := coloredPixels(img, area)
		t.Logf("chart %q at %v: %d colored pixels", c.Label, area, n)
		if n < area.Dx()*area.Dy()/200 { // under 0.5 % of the chart
			t.Errorf("chart %q is blank: %d colored pixels in %v", c.Label, n, area)
		}
	}

	// Nothing but the report itself was loaded, and nothing complained.
	requests := 0
	for _, e := range b.eventsOf() {
		switch e.Method {
		case "Network.requestWillBeSent":
			var p struct{ Request struct{ URL string } }
			json.Unmarshal(e.Params, &p)
			if requests++; p.Request.URL != url {
				t.Errorf("the report made a request for %s", p.Request.URL)
			}
		case "Runtime.exceptionThrown":
			t.Errorf("exception: %s", e.Params)
		case "Runtime.consoleAPICalled":
			var p struct{ Type string }
			json.Unmarshal(e.Params, &p)
			if p.Type == "error" || p.Type == "warning" || p.Type == "assert" {
				t.Errorf("console %s: %s", p.Type, e.Params)
			}
		case "Log.entryAdded":
			var p struct {
				Entry struct{ Level, Text, URL string }
			}
			json.Unmarshal(e.Params, &p)
			if p.Entry.Level == "error" || p.Entry.Level == "warning" {
				t.Errorf("browser log %s: %s (%s)", p.Entry.Level, p.Entry.Text, p.Entry.URL)
			}
		}
	}
	if requests == 0 {
		t.Error("no request seen, not even the report's own: the network check saw nothing")
	}
}

// coloredPixels counts the pixels of img in r that have a color, as the
// charts' series do (the background is white, axes and text are gray).
func coloredPixels(img image.Image, r image.Rectangle) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			hi, lo := max(cr, cg, cb)>>8, min(cr, cg, cb)>>8
			if hi-lo > 40 {
				n++
			}
		}
	}
	return n
}
