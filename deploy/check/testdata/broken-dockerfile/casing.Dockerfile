# want: buildkit FromAsCasing
FROM golang:1.26.8-bookworm as build
RUN go version > /version
FROM scratch
COPY --from=build /version /version
USER 10001
ENTRYPOINT ["/version"]
