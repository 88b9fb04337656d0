# want: the final stage sets no USER
FROM golang:1.26.8-bookworm AS build
RUN go version > /version
FROM scratch
COPY --from=build /version /version
ENTRYPOINT ["/version"]
