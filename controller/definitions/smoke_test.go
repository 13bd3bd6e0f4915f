package definitions

import (
	"context"
	"testing"

	"github.com/velad-dev/velad/controller/render"
)

func TestSmokeCompile(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	defs, _ := s.List(context.Background())
	r := render.NewRenderer()
	for _, d := range defs {
		if _, err := r.Compile(d); err != nil {
			t.Error(err)
		}
	}
}
