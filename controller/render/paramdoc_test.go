package render

import (
	"reflect"
	"testing"
)

func TestParameterTables(t *testing.T) {
	params := []Parameter{
		{Name: "image", Type: "string", Required: true, Description: "Image"},
		{Name: "policy", Type: `"Always"|"Never"`, Default: `"Always"`},
		{Name: "name", Type: "string", Default: `""`},
		{Name: "ports", Type: "[]{...}"},
		{Name: "ports[].port", Type: "int", Required: true},
		{Name: "ports[].expose", Type: "bool", Default: "false"},
		{Name: "probe", Type: "{...}"},
		{Name: "probe.httpGet", Type: "{...}"},
		{Name: "probe.httpGet.path", Type: "string"},
		{Name: "probe.period", Type: "int", Default: "10"},
		{Name: "args", Type: "[]string", Default: "[]"},
	}
	want := []ParameterTable{
		{Path: "", Title: "Specification", Depth: 0, Rows: []ParameterRow{
			{Name: "image", Type: "string", Required: true, Description: "Image"},
			{Name: "policy", Type: `"Always"|"Never"`, Default: "Always"},
			{Name: "name", Type: "string", Default: "empty"},
			{Name: "ports", Type: "[[]ports](#ports)"},
			{Name: "probe", Type: "[probe](#probe)"},
			{Name: "args", Type: "[]string"},
		}},
		{Path: "ports[]", Title: "ports", Depth: 1, Rows: []ParameterRow{
			{Name: "port", Type: "int", Required: true},
			{Name: "expose", Type: "bool", Default: "false"},
		}},
		{Path: "probe", Title: "probe", Depth: 1, Rows: []ParameterRow{
			{Name: "httpGet", Type: "[httpGet](#httpget)"},
			{Name: "period", Type: "int", Default: "10"},
		}},
		{Path: "probe.httpGet", Title: "httpGet", Depth: 2, Rows: []ParameterRow{
			{Name: "path", Type: "string"},
		}},
	}
	if got := ParameterTables(params); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
	if got := ParameterTables(nil); got != nil {
		t.Errorf("no parameters: %+v", got)
	}
}
