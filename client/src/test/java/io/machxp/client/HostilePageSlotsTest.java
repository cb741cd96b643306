package io.machxp.client;

import static io.machxp.proto.shm.ShmLayout.INT;
import static io.machxp.proto.shm.ShmLayout.WORD64;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.shm.ShmLayout;
import io.machxp.proto.transport.Transport;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A task process that writes the page file raw, outside the access protocol
 * (docs/shared-memory.md, "What a task process can do to the files"): the kernel decides from its
 * own record whether it mapped a page and how, so bytes a task wrote into a slot the kernel did
 * not map writable never become the page's, here or on another kernel.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostilePageSlotsTest {
    private static final long WORD = 4096 + 8; // page 1, no futexes
    private final ClusterFixture c;

    HostilePageSlotsTest() throws Exception {
        c = new ClusterFixture(2);
    }

    @AfterEach
    void close() {
        c.close();
    }

    @Test
    void forgedMappedBitsOnAPageTheKernelGaveAwayAreNotAWrite() {
        TaskClient a = c.tasks.get(0);
        TaskClient b = c.tasks.get(1);
        a.writeLong(c.base[0] + WORD, 1); // kernel 0 maps the page writable to task processes
        b.writeLong(c.base[1] + WORD, 2); // and gives it to kernel 1
        HostileShm hostile = new HostileShm(c.clients.get(0), a);
        ByteBuffer pages = hostile.pages();
        INT.setVolatile(pages, ShmLayout.pageCtl(1), ShmLayout.MAPPED_READ | ShmLayout.MAPPED_WRITE);
        WORD64.setVolatile(pages, hostile.pageByte(WORD), 666L);

        try (KernelClient grpc = KernelClient.connect(c.clients.get(0).target(), Transport.LOOPBACK_PLAINTEXT, null,
                KernelClient.Memory.GRPC_ONLY)) {
            TaskClient g = grpc.taskCreate("grpc");
            long base = g.vmMap(ClusterFixture.OBJECT);
            assertThat(g.readLong(base + WORD)).as("kernel 0 faults the page in: the pager's bytes").isEqualTo(2);
            assertThat(a.readLong(c.base[0] + WORD)).as("the forged slot is not the page").isEqualTo(2);
            b.writeLong(c.base[1] + WORD, 3);
            assertThat(g.readLong(base + WORD)).isEqualTo(3);
            assertThat(b.readLong(c.base[1] + WORD)).isEqualTo(3);
        }
    }

    @Test
    void aWriteIntoAReadOnlySlotIsNeverThePages() {
        TaskClient a = c.tasks.get(0);
        TaskClient b = c.tasks.get(1);
        long other = WORD + 8;
        a.writeLong(c.base[0] + WORD, 1);
        assertThat(b.readLong(c.base[1] + WORD)).isEqualTo(1); // both kernels now hold the page read-only
        assertThat(a.readLong(c.base[0] + WORD)).isEqualTo(1); // kernel 0 maps it read-only to task processes
        HostileShm hostile = new HostileShm(c.clients.get(0), a);
        WORD64.setVolatile(hostile.pages(), hostile.pageByte(WORD), 666L); // written anyway

        a.writeLong(c.base[0] + other, 5); // kernel 0 gets write access: the page is mapped writable again

        assertThat(b.readLong(c.base[1] + other)).isEqualTo(5);
        assertThat(b.readLong(c.base[1] + WORD)).as("the read-only slot's write is not the page's").isEqualTo(1);
        assertThat(a.readLong(c.base[0] + WORD)).isEqualTo(1);
    }
}
