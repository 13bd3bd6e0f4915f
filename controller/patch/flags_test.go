package patch_test

import "flag"

// update is accepted so that `go test ./controller/... -update` works
// across packages; this package has no golden files to rewrite.
var _ = flag.Bool("update", false, "rewrite golden files (none in this package)")
