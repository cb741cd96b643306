package io.machxp.kernel.vm;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.vm.VmPage.Access;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A page's direct mapping: copies run only while mapped, and revoking waits for those under way. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PageMappingTest {
    private final VmPage page = new VmPage(1, 0, 64);

    @Test
    void copiesNeedTheMappedAccess() {
        page.data = new byte[64];
        byte[] one = {1};
        assertThat(page.readMapped(0, new byte[1], 0, 1)).as("not mapped").isFalse();
        page.mapping.map(Access.READ);
        assertThat(page.readMapped(0, new byte[1], 0, 1)).isTrue();
        assertThat(page.writeMapped(0, one, 0, 1)).as("mapped read-only").isFalse();
        page.mapping.map(Access.READ_WRITE);
        assertThat(page.writeMapped(0, one, 0, 1)).isTrue();
        assertThat(page.data[0]).isEqualTo((byte) 1);
        page.mapping.revoke();
        assertThat(page.mapping.takeWritten()).isTrue();
        assertThat(page.mapping.takeWritten()).as("taken once").isFalse();
        assertThat(page.readMapped(0, new byte[1], 0, 1)).as("revoked").isFalse();
    }

    @Test
    void theWordOfATrackedFutexIsNeverCopiedDirectly() {
        page.data = new byte[64];
        page.mapping.map(Access.READ_WRITE);
        page.futex(8);
        assertThat(page.readMapped(0, new byte[8], 0, 8)).as("the futex revoked the mapping").isFalse();
        page.mapping.map(Access.READ_WRITE);
        assertThat(page.readMapped(0, new byte[8], 0, 8)).isTrue();
        assertThat(page.writeMapped(6, new byte[4], 0, 4)).as("bytes 8-9 are the futex's").isFalse();
        assertThat(page.readMapped(11, new byte[1], 0, 1)).isFalse();
        assertThat(page.writeMapped(12, new byte[4], 0, 4)).isTrue();
    }

    @Test
    void revokeWaitsForTheCopiesUnderWay() throws Exception {
        page.mapping.map(Access.READ_WRITE);
        assertThat(page.mapping.enter(true)).isTrue();
        CompletableFuture<Void> revoked = CompletableFuture.runAsync(page.mapping::revoke);
        while (page.mapping.enter(false)) { // until the revoke has started, new copies may still enter
            page.mapping.exit(false);
            Thread.onSpinWait();
        }
        assertThat(revoked).as("a copy is still under way").isNotDone();
        page.mapping.exit(true);
        revoked.get(10, TimeUnit.SECONDS);
        assertThat(page.mapping.takeWritten()).isTrue();
        assertThat(page.mapping.enter(false)).isFalse();
    }
}
