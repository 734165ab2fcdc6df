internal import HTTPTypes
internal import Metrics
internal import Synchronization

/// The swift-metrics records of one route: how many requests it answered, how long they took
/// and how many failed, by status, and how many are in progress, under the labels and
/// dimensions Hummingbird's `MetricsMiddleware` uses (`hb.requests`,
/// `http.server.request.duration`, `hb.request.errors`, `http.server.active_requests`), so a
/// dashboard made for one reads the other.
///
/// The middleware is not used because it wraps every response body in a closure to time its
/// write, and a closure body loses Hummingbird's fast path for a body already in memory: the
/// head, body and end then go to the event loop one by one and out in two system calls instead
/// of one batched write. For the API's small JSON answers that doubled the event loop's work
/// per request; the duration recorded here ends when the response is ready to write.
///
/// The handles are made on first use, after the host has bootstrapped its metrics backend, and
/// then kept: a request costs two short lock acquisitions and no label building.
final class RouteMetrics: Sendable {
    private struct Records {
        let requests: Counter
        let duration: Timer
        let errors: Counter?
    }

    private struct State {
        var active: Meter?
        var byStatus: [Int: Records] = [:]
    }

    let method: HTTPRequest.Method
    private let state = Mutex(State())

    /// The records of one route for `method`.
    init(method: HTTPRequest.Method) {
        self.method = method
    }

    /// Counts a request in progress; pass what it returns to ``finished(_:route:status:nanoseconds:)``.
    func started() -> Meter {
        let meter = state.withLock { state in
            if let active = state.active { return active }
            let meter = Meter(label: "http.server.active_requests", dimensions: [("http.request.method", method.rawValue)])
            state.active = meter
            return meter
        }
        meter.increment()
        return meter
    }

    /// Records a finished request of `route` (as the router names it, such as
    /// `/api/v1/videos/{id}`; always the same for one `RouteMetrics`); statuses from 400 up also
    /// count as errors.
    func finished(_ active: Meter, route: String, status: HTTPResponse.Status, nanoseconds: Int64) {
        let code = status.code
        let records = state.withLock { state in
            if let records = state.byStatus[code] { return records }
            let text = String(code)
            let dimensions = [("http.route", route), ("http.request.method", method.rawValue), ("http.response.status_code", text)]
            let records = Records(
                requests: Counter(label: "hb.requests", dimensions: dimensions),
                duration: Timer(label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds),
                errors: code >= 400
                    ? Counter(label: "hb.request.errors", dimensions: [("http.route", route), ("http.request.method", method.rawValue), ("error.type", text)])
                    : nil
            )
            state.byStatus[code] = records
            return records
        }
        records.requests.increment()
        records.duration.recordNanoseconds(nanoseconds)
        records.errors?.increment()
        active.decrement()
    }
}
