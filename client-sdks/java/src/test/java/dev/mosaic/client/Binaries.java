package dev.mosaic.client;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the tests find Mosaic's binaries and the repository. */
final class Binaries {
    private Binaries() {}

    /** Whether the tests run in CI, where nothing may be skipped for want of a binary. */
    static boolean inCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** The repository root: {@code MOSAIC_ROOT}, else two levels above the module. */
    static Path repoRoot() {
        String root = System.getenv("MOSAIC_ROOT");
        return (root != null && !root.isEmpty() ? Path.of(root) : Path.of("../..")).toAbsolutePath().normalize();
    }

    /** {@code mosaic}: the system property {@code mosaic.bin}, else {@code MOSAIC_BIN}; null if neither is set. */
    static Path mosaic() {
        String configured = System.getProperty("mosaic.bin");
        if (configured == null || configured.isEmpty()) {
            configured = System.getenv("MOSAIC_BIN");
        }
        return configured == null || configured.isEmpty() ? null : Path.of(configured);
    }

    /** {@code thrift-test-server}: {@code MOSAIC_THRIFT_TEST_SERVER}, else target/debug under the root. */
    static Path thriftTestServer() {
        String configured = System.getenv("MOSAIC_THRIFT_TEST_SERVER");
        Path binary = configured != null && !configured.isEmpty()
            ? Path.of(configured)
            : repoRoot().resolve("target/debug/thrift-test-server");
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException(binary + " is not built (cargo build -p mosaic-conformance --bins)");
        }
        return binary;
    }
}
