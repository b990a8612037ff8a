# Build: a static binary (bbolt is pure Go, so CGO is off).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/repairbot .

# Run: no shell, no package manager, a non-root user, the data on a volume.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/repairbot /repairbot
COPY config.example.toml /etc/repairbot/config.example.toml
USER nonroot:nonroot
VOLUME ["/data"]
# Mount your config at /etc/repairbot/config.toml with [store] data_dir = "/data";
# pass TELEGRAM_TOKEN (and TELEGRAM_WEBHOOK_SECRET in webhook mode) as environment.
EXPOSE 8443
ENTRYPOINT ["/repairbot", "-config", "/etc/repairbot/config.toml"]
