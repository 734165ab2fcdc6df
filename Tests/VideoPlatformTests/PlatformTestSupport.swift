import Logging
import ServiceLifecycle
import VideoPlatform

extension Platform {
    /// Runs the platform as a service while `body` runs, then shuts it down gracefully.
    func whileRunning<T: Sendable>(logger: Logger, _ body: @Sendable () async throws -> T) async throws -> T {
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [self], logger: logger))
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask { try await group.run(); return nil }
            let result = try await body()
            await group.triggerGracefulShutdown()
            for try await _ in tasks {}
            return result
        }
    }
}
