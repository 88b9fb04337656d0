# want: the final stage's USER is root
FROM golang:1.26.8-bookworm AS build
RUN go version > /version
FROM scratch
COPY --from=build /version /version
USER root
ENTRYPOINT ["/version"]
