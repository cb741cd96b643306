package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.ipc.link.LinkConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Option;

/**
 * Review F3: a kernel its IPC links declared dead stays cut off from IPC while it keeps its pager
 * session (it rejoins IPC only with a new session), so the links' default lease must be no shorter
 * than the pager's: a pause the pager forgives must not end the kernel's IPC for good.
 */
class IpcLeaseTest {
    @Test
    void theIpcLinksLeaseIsNoShorterThanThePagersLease() throws NoSuchFieldException {
        long pagerLease = Long.parseLong(PagerCommand.class.getDeclaredField("leaseMillis")
                .getAnnotation(Option.class).defaultValue());
        assertThat(LinkConfig.DEFAULT_LEASE_MILLIS).isGreaterThanOrEqualTo(pagerLease);
    }
}
