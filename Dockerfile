# A minimal image of the lambdafan binary, for the engines that run shards
# of a run (Kubernetes Indexed Jobs, AWS Batch array jobs):
#   docker build -t lambdafan .
# The binary is static (no cgo), so the image holds it and CA certificates
# only, and runs as a non-root user.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/lambdafan ./cmd/lambdafan

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/lambdafan /lambdafan
ENTRYPOINT ["/lambdafan"]
