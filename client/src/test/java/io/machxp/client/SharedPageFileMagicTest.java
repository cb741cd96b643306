package io.machxp.client;

import static io.machxp.proto.shm.ShmLayout.LONG;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The page file's magic is its layout's version (review P2): since pages may sit in spare slots,
 * a client of the first layout (page i always in slot i, magic "MACHXPP1") must refuse the file,
 * and a client refuses a file of the first layout; either one then reaches the pages over gRPC.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SharedPageFileMagicTest {
    /** "MACHXPP1": the first layout's magic, the one an older client library checks for. */
    private static final long FIRST_LAYOUT = 0x4d41434858505031L;
    private final ClusterFixture c;

    SharedPageFileMagicTest() throws Exception {
        c = new ClusterFixture(1);
    }

    @AfterEach
    void close() {
        c.close();
    }

    @Test
    void aPageFileOfTheFirstLayoutIsRefusedAndItsPagesGoOverGrpc() {
        TaskClient a = c.tasks.get(0);
        a.writeLong(c.base[0] + 4096 + 8, 5);
        assertThat(a.readLong(c.base[0] + 4096 + 8)).isEqualTo(5);
        assertThat(a.sharedAccesses()).as("this layout's client uses the file").isPositive();
        ByteBuffer pages = new HostileShm(c.clients.get(0), a).pages();
        assertThat((long) LONG.getVolatile(pages, 0)).as("an older client's check (magic == MACHXPP1) refuses it")
                .isNotEqualTo(FIRST_LAYOUT);

        LONG.setVolatile(pages, 0, FIRST_LAYOUT); // as a kernel of the first layout would have made it
        try (KernelClient client = KernelClient.connect(c.cluster.kernelTargets().get(0))) {
            TaskClient old = client.taskCreate("old-layout");
            long base = old.vmMap(ClusterFixture.OBJECT);
            assertThat(old.readLong(base + 4096 + 8)).isEqualTo(5);
            old.writeLong(base + 4096 + 8, 6);
            assertThat(old.readLong(base + 4096 + 8)).isEqualTo(6);
            assertThat(old.sharedAccesses()).as("a first-layout file is refused: every access over gRPC").isZero();
            old.terminate();
        }
        assertThat(a.readLong(c.base[0] + 4096 + 8)).isEqualTo(6);
    }
}
