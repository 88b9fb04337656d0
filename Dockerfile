# syntax=docker/dockerfile:1
# The open3ds image: one static binary that runs any role (`serve ds|acs|3dss`) and `migrate`.
#
#   docker build --build-arg VERSION=v1.2.0 --build-arg COMMIT=$(git rev-parse HEAD) -t open3ds:v1.2.0 .
#
# The build context leaves out .git (.dockerignore), so the toolchain cannot record the commit itself:
# VERSION and COMMIT are stamped into internal/buildinfo by the linker instead, and `open3ds version`
# prints them. Nothing secret goes into the image: keys, tokens and the DSN come from the environment
# or from mounted files when the container starts (docs/deployment.md).

# Both stages name exact tags, so that a rebuild of the same commit starts from the same toolchain.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
# The module download is its own layer: it is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
ARG COMMIT=unknown
# The store's drivers are pure Go (pgx, and modernc's SQLite), so the binary needs no C library and
# runs on an empty base image.
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X github.com/open3ds/open3ds/internal/buildinfo.Version=${VERSION} -X github.com/open3ds/open3ds/internal/buildinfo.Commit=${COMMIT}" \
	-o /out/open3ds ./cmd/open3ds \
	&& echo 'open3ds:x:10001:10001:open3ds:/nonexistent:/sbin/nologin' > /out/passwd \
	&& echo 'open3ds:x:10001:' > /out/group

# The run stage holds the binary, the CA roots its outbound HTTPS and SMTP clients check providers
# against, and a passwd entry for the unprivileged user: no shell, no package manager. The root file
# system can be mounted read-only; the binary writes nothing but its logs to stderr.
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/passwd /etc/passwd
COPY --from=build /out/group /etc/group
COPY --from=build /out/open3ds /usr/local/bin/open3ds
USER 10001:10001
# The roles' default ports: DS protocol 8443 and admin 8444; ACS protocol 9443, admin 9444 and public
# (challenge pages) 9445; 3DS Server RReq 10443, admin 10444, merchant API 10446 and browser 10447.
EXPOSE 8443 8444 9443 9444 9445 10443 10444 10446 10447
ENTRYPOINT ["/usr/local/bin/open3ds"]
CMD ["version"]
