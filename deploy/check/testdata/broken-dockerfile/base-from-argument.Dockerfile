# want: leaves the base image to a build argument
ARG BASE=golang:1.26.8-bookworm
FROM ${BASE} AS build
RUN go version > /version
FROM scratch
COPY --from=build /version /version
USER 10001
ENTRYPOINT ["/version"]
