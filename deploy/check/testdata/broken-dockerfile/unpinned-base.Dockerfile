# want: FROM golang:latest does not pin a version tag
FROM golang:latest AS build
RUN go version > /version
FROM scratch
COPY --from=build /version /version
USER 10001
ENTRYPOINT ["/version"]
