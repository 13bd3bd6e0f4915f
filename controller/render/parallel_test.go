package render_test

import (
	"bytes"
	"context"
	"os"
	"sync"
	"testing"

	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/render"
)

// TestParallelRendersMatchGolden renders every golden app from several
// goroutines at once, on one Renderer (its engines evaluate in parallel),
// with the memo on and off, and compares each result with its golden
// file: parallel rendering must not change what is rendered.
func TestParallelRendersMatchGolden(t *testing.T) {
	type job struct {
		name, want string
		app        []byte
		src        definition.Source
		ga         render.GoldenApp
	}
	var jobs []job
	for _, ga := range render.GoldenApps(t) {
		want, err := os.ReadFile(ga.Golden)
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, job{name: ga.Name, want: string(want), app: ga.Data, src: ga.Defs, ga: ga})
	}
	for _, memo := range []int{0, 512} {
		r := render.NewRenderer()
		r.SetMemoSize(memo)
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for round := 0; round < 2; round++ {
					for i := range jobs {
						j := jobs[(i+g*3)%len(jobs)]
						app, err := render.ParseApplication(j.app)
						if err != nil {
							t.Error(err)
							return
						}
						var got bytes.Buffer
						if err := r.DryRunReading(context.Background(), &got, app, j.src, j.ga.Read); err != nil {
							t.Errorf("%s: %v", j.name, err)
							continue
						}
						if g := j.ga.Normalize(got.String()); g != j.want {
							t.Errorf("%s (memo %d): parallel render differs from the golden file:\n%s", j.name, memo, diff(j.want, g))
						}
					}
				}
			}()
		}
		wg.Wait()
	}
}
