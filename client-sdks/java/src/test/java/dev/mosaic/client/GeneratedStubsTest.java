package dev.mosaic.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The committed stubs under src/main/java are what {@code mosaic gen} writes for idl/image.thrift now. */
class GeneratedStubsTest {
    @Test
    void committedStubsAreCurrent() throws Exception {
        Path mosaic = Binaries.mosaic();
        if (mosaic == null) {
            String reason = "set MOSAIC_BIN (or the mosaic.bin property) to check the committed stubs";
            if (Binaries.inCi()) {
                fail(reason + " (CI=true, so this is not skipped)");
            }
            assumeTrue(false, reason);
        }
        assertTrue(Files.isExecutable(mosaic), mosaic + " is not built (cargo build -p mosaic-cli)");
        Path root = Binaries.repoRoot();
        Path log = Files.createDirectories(Path.of("target")).resolve("regen-check.log");
        // The same command as ./regen --check, from the repository root.
        Process check = new ProcessBuilder(mosaic.toString(), "gen", "--lang", "java",
                "--out", "client-sdks/java/src/main/java", "--check", "idl/image.thrift")
            .directory(root.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
        if (!check.waitFor(120, TimeUnit.SECONDS)) {
            check.destroyForcibly();
            fail("mosaic gen --check did not finish");
        }
        assertEquals(0, check.exitValue(),
            "the committed stubs are stale: run client-sdks/java/regen\n" + read(log));
    }

    private static String read(Path log) throws IOException {
        return Files.readString(log, StandardCharsets.UTF_8);
    }
}
