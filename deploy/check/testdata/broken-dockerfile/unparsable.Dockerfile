# want: buildkit:
FROM golang:1.26.8-bookworm AS build
COPY --from=missing /version /version
FROM scratch
COPY --chmod /version /version
USER 10001
