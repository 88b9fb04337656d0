# want: buildkit SecretsUsedInArgOrEnv
FROM golang:1.26.8-bookworm AS build
ENV ADMIN_TOKEN=not-a-real-token
RUN go version > /version
FROM scratch
COPY --from=build /version /version
USER 10001
ENTRYPOINT ["/version"]
