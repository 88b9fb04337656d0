# want: ADD fetches https://downloads.example/tool.tar.gz
FROM golang:1.26.8-bookworm AS build
ADD https://downloads.example/tool.tar.gz /tool.tar.gz
FROM scratch
COPY --from=build /tool.tar.gz /tool.tar.gz
USER 10001
ENTRYPOINT ["/tool"]
