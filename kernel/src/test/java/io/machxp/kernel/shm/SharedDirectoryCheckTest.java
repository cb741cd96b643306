package io.machxp.kernel.shm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review N1: a kernel shares memory only in a directory where no other user can swap its
 * session's directory for a link: owned by root or its own user, and sticky if others can write
 * it. Otherwise it shares nothing (its task processes call over gRPC), and says why.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SharedDirectoryCheckTest {
    @TempDir
    Path dir;

    @Test
    void aDirectoryOthersCanWriteWithoutTheStickyBitIsNotUsed() throws Exception {
        Path open = chmod("0777");
        assertThat(SharedDirectoryCheck.refusal(open)).contains("not sticky").contains("chmod +t " + open);
        SharedSessions sessions = new SharedSessions(open, "A", null);
        try {
            assertThat(sessions.create()).as("nothing shared").isNull();
        } finally {
            sessions.closeAll();
        }
        try (var list = Files.list(open)) {
            assertThat(list.toList()).isEmpty();
        }
    }

    @Test
    void aStickyOrOwnDirectoryIsUsed() throws Exception {
        for (String mode : new String[] {"1777", "0700"}) {
            Path d = chmod(mode);
            assertThat(SharedDirectoryCheck.refusal(d)).as(mode).isNull();
            SharedSessions sessions = new SharedSessions(d, "A", null);
            try {
                assertThat(sessions.create()).as(mode).isNotNull();
            } finally {
                sessions.closeAll();
            }
        }
    }

    private Path chmod(String mode) throws Exception {
        Path d = Files.createDirectory(dir.resolve("shm" + mode));
        Process p = new ProcessBuilder("chmod", mode, d.toString()).inheritIO().start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        return d;
    }
}
