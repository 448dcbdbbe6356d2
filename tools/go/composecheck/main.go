// composecheck loads a Compose file with compose-go, the loader Docker Compose v2 itself uses, and
// prints the resolved model like `docker compose config`. It needs no Docker engine: it is how
// `node tools/dist/cli.js deploy-check` proves docker-compose.yml parses, validates against the
// Compose specification schema and has consistent references (depends_on, profiles, networks).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var files, profiles list
	flag.Var(&files, "f", "compose file (repeatable)")
	flag.Var(&profiles, "profile", "profile to enable (repeatable)")
	project := flag.String("p", "vigil", "project name")
	quiet := flag.Bool("q", false, "only validate, print nothing")
	format := flag.String("format", "yaml", "output format: yaml or json")
	dotenv := flag.Bool("dotenv", true, "read .env beside the compose file, as docker compose does")
	flag.Parse()
	if len(files) == 0 {
		files = list{"docker-compose.yml"}
	}
	loaders := []cli.ProjectOptionsFn{
		cli.WithName(*project),
		cli.WithOsEnv,
		cli.WithProfiles(profiles),
		cli.WithResolvedPaths(true),
		cli.WithConsistency(true),
	}
	if *dotenv {
		loaders = append(loaders, cli.WithDotEnv)
	}
	opts, err := cli.NewProjectOptions(files, loaders...)
	if err != nil {
		fail(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	if *quiet {
		return
	}
	var out []byte
	if *format == "json" {
		out, err = p.MarshalJSON()
	} else {
		out, err = p.MarshalYAML()
	}
	if err != nil {
		fail(err)
	}
	os.Stdout.Write(out)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "compose: %v\n", err)
	os.Exit(1)
}
