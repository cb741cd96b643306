package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.ipc.link.LinkConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Option;

/**
 * Review F3: a kernel its IPC links declared dead stays cut off from IPC while it keeps its pager
 * session (it rejoins IPC only with a new session), so the links' default lease must be strictly longer
 * than the pager's (LinkConfig.DEFAULT_LEASE_MILLIS documents the margin): a pause the pager
 * forgives must not end the kernel's IPC for good, whichever side checks first.
 */
class IpcLeaseTest {
    @Test
    void theIpcLinksLeaseIsLongerThanThePagersLease() throws NoSuchFieldException {
        long pagerLease = Long.parseLong(PagerCommand.class.getDeclaredField("leaseMillis")
                .getAnnotation(Option.class).defaultValue());
        assertThat(LinkConfig.DEFAULT_LEASE_MILLIS).as("a margin over the pager's lease").isGreaterThan(pagerLease);
    }
}
