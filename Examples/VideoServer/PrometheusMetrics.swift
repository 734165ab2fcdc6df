import Hummingbird
import Metrics
import Prometheus

/// swift-prometheus as the process's swift-metrics backend, and its registry as `/metrics`.
///
/// swift-metrics takes one backend per process, set before anything records; everything that
/// records through swift-metrics (the API's and the media delivery's request metrics, a host's
/// own) then shows up in the Prometheus text exposition.
enum PrometheusMetrics {
    static let registry = PrometheusCollectorRegistry()

    /// Bootstraps swift-metrics with the registry (once per process).
    static func bootstrap() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }

    /// `GET /metrics`: the registry in Prometheus's text format 0.0.4.
    static func response() -> Response {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 << 10)
        registry.emit(into: &buffer)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer)))
    }
}
