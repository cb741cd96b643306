package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.xp.KernelToPager;
import org.junit.jupiter.api.Test;

/**
 * machxp's kernel names "end_info" in its hello (xp-spec 3.1, 6.12): it understands ErrorInfo on
 * the pager's ends that are no refusal, marked {@code stream = broken} (PagerWord), so a pager
 * gives them to it. A pager gives them to no kernel that does not name it.
 */
class EndInfoHelloTest {
    @Test
    void theHelloNamesEndInfo() {
        FakeKernelEnv env = new FakeKernelEnv();
        KernelCore core = new KernelCore("B", env, new KernelStats(), CoreOptions.DEFAULT);
        core.xp().start();
        KernelToPager hello = env.drain().get(0);
        assertThat(hello.getKernelHello().getFeaturesList()).contains("end_info");
    }
}
