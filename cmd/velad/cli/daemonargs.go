package cli

import "github.com/spf13/pflag"

// daemonArgs are the arguments a daemon (velad server, velad agent) is
// started with: fixed first, then every flag the user set on this command
// but those skip names, each as --name=value (a slice flag once per value).
func daemonArgs(fs *pflag.FlagSet, fixed []string, skip func(name string) bool) []string {
	args := fixed
	fs.Visit(func(f *pflag.Flag) {
		if skip(f.Name) {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				args = append(args, "--"+f.Name+"="+v)
			}
			return
		}
		args = append(args, "--"+f.Name+"="+f.Value.String())
	})
	return args
}
