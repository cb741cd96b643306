package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.machxp.pager.PagerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica started with --raft-sync none on a store: it marks the store with this boot, a clean
 * stop syncs the log and removes the mark, and a store still marked by another boot (the host
 * restarted after a crash) is refused at start with a sentence that says what to do.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class UnsyncedStoreTest {
    @Test
    void aReplicaOnAStoreWrittenUnsyncedBeforeAHostRestartDoesNotStart(@TempDir Path stores) throws IOException {
        assumeTrue(UnsyncedLog.bootId() != null, "Linux's boot id is readable");
        // The replica starts twice on its ports: a port taken meanwhile starts it all again, on fresh
        // ports and a fresh store.
        java.util.concurrent.atomic.AtomicInteger attempt = new java.util.concurrent.atomic.AtomicInteger();
        LoopbackGroup.start(3, group -> {
            startsTwiceThenIsRefused(stores.resolve("attempt-" + attempt.incrementAndGet()), group);
            return null;
        });
    }

    private static void startsTwiceThenIsRefused(Path store, Map<String, String> group) throws IOException {
        PagerConfig config = new PagerConfig("p", "127.0.0.1", 0, 4096, Map.of("shared", 1L << 16))
                .withStoreDir(store);
        ReplicaConfig a = new ReplicaConfig("a", group).withRaftSync(RaftSync.NONE);
        Path marker = store.resolve("raft-a").resolve(UnsyncedLog.MARKER);

        ReplicatedPager first = ReplicatedPager.start(config, a);
        assertThat(Files.readString(marker, StandardCharsets.US_ASCII).trim()).isEqualTo(UnsyncedLog.bootId());
        first.close();
        assertThat(marker).as("a clean stop syncs the log and forgets the mark").doesNotExist();

        ReplicatedPager second = ReplicatedPager.start(config, a); // the same boot: the store is trusted
        assertThat(marker).exists();
        second.close();
        // What a crash of the host leaves: the mark of a boot that is not this one.
        Files.writeString(marker, "0f0f0f0f-host-crashed-since\n", StandardCharsets.US_ASCII);

        assertThatThrownBy(() -> ReplicatedPager.start(config, a)).isInstanceOf(IOException.class)
                .hasMessageContaining("pager p replica a").hasMessageContaining("--raft-sync none")
                .hasMessageContaining("0f0f0f0f-host-crashed-since").hasMessageContaining("start the group anew");
        assertThatThrownBy(() -> ReplicatedPager.start(config, a.withRaftSync(RaftSync.FSYNC)))
                .as("with fsync the unsynced log is no more trustworthy").isInstanceOf(IOException.class)
                .hasMessageContaining("--raft-sync none");
    }
}
