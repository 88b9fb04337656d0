package check

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// LintDockerfile runs BuildKit's own checks on a Dockerfile, those `docker build --check` runs, then
// the project's, and returns one line per finding.
func LintDockerfile(dt []byte) []string {
	var out []string
	// The results name their source by a definition of the build context, which an offline lint has
	// none of: an empty one stands in.
	src := llb.NewSourceMap(nil, "Dockerfile", "Dockerfile", dt)
	src.Definition = &llb.Definition{}
	res, err := dockerfile2llb.DockerfileLint(context.Background(), dt, dockerfile2llb.ConvertOpt{
		Config:       dockerui.Config{},
		SourceMap:    src,
		MetaResolver: offlineImages{},
	})
	if err != nil {
		return []string{"buildkit: " + err.Error()}
	}
	for _, w := range res.Warnings {
		line := 0
		if len(w.Location.Ranges) > 0 {
			line = int(w.Location.Ranges[0].Start.Line)
		}
		out = append(out, fmt.Sprintf("buildkit %s (line %d): %s", w.RuleName, line, w.Detail))
	}
	if res.Error != nil {
		out = append(out, "buildkit: "+res.Error.Message)
		return out
	}
	return append(out, projectRules(dt)...)
}

// offlineImages answers BuildKit's questions about base images without a registry: an empty Linux
// image with the usual PATH. The lint rules need only that there is an image; those few that read a
// base image's own variables cannot see them here.
type offlineImages struct{}

func (offlineImages) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	img := ocispecs.Image{Platform: ocispecs.Platform{OS: "linux", Architecture: "amd64"},
		Config: ocispecs.ImageConfig{Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}}}
	dt, err := json.Marshal(img)
	if err != nil {
		return "", "", nil, err
	}
	return ref, digest.FromBytes(dt), dt, nil
}

// projectRules are ours: the image runs as an unprivileged user, copies nothing from the network, and
// names base images by an exact tag.
func projectRules(dt []byte) []string {
	ast, err := parser.Parse(strings.NewReader(string(dt)))
	if err != nil {
		return []string{"dockerfile: " + err.Error()}
	}
	stages, metaArgs, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		return []string{"dockerfile: " + err.Error()}
	}
	var out []string
	names := map[string]bool{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			names["$"+kv.Key] = true
			names["${"+kv.Key+"}"] = true
		}
	}
	for i, st := range stages {
		base := st.BaseName
		switch {
		case names[base] || strings.Contains(base, "$"):
			out = append(out, fmt.Sprintf("stage %d: FROM %s leaves the base image to a build argument", i, base))
		case strings.EqualFold(base, "scratch") || stageNamed(stages[:i], base):
		case strings.Contains(base, "@sha256:"):
		default:
			tag := ""
			if j := strings.LastIndex(base, ":"); j > strings.LastIndex(base, "/") {
				tag = base[j+1:]
			}
			if tag == "" || tag == "latest" || !strings.ContainsAny(tag, "0123456789") {
				out = append(out, fmt.Sprintf("stage %d: FROM %s does not pin a version tag", i, base))
			}
		}
		for _, cmd := range st.Commands {
			if add, ok := cmd.(*instructions.AddCommand); ok {
				for _, src := range add.SourcePaths {
					if u, err := url.Parse(src); err == nil && u.Scheme != "" && u.Host != "" {
						out = append(out, fmt.Sprintf("line %d: ADD fetches %s from the network at build time", lineOf(cmd), src))
					}
				}
			}
		}
	}
	if len(stages) > 0 {
		last := stages[len(stages)-1]
		user := ""
		for _, cmd := range last.Commands {
			if u, ok := cmd.(*instructions.UserCommand); ok {
				user = u.User
			}
		}
		name, _, _ := strings.Cut(user, ":")
		switch name {
		case "":
			out = append(out, "the final stage sets no USER, so the image runs as root")
		case "root", "0":
			out = append(out, "the final stage's USER is root")
		}
	}
	return out
}

func stageNamed(stages []instructions.Stage, name string) bool {
	for _, s := range stages {
		if strings.EqualFold(s.Name, name) {
			return true
		}
	}
	return false
}

func lineOf(cmd instructions.Command) int {
	if loc := cmd.Location(); len(loc) > 0 {
		return loc[0].Start.Line
	}
	return 0
}
