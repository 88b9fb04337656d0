# want: buildkit JSONArgsRecommended
FROM golang:1.26.8-bookworm AS build
RUN go version > /version
FROM scratch
COPY --from=build /version /version
USER 10001
ENTRYPOINT /version
