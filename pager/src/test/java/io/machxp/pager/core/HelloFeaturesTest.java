package io.machxp.pager.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.object.ObjectCatalog;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a session keeps of its hello's features: only the names the pager knows (spec 6.12). */
class HelloFeaturesTest {
    @Test
    void aHelloNamingManyUnknownFeaturesKeepsOnlyTheKnownOnes() {
        List<PagerToKernel> sent = new ArrayList<>();
        PagerCore pager = new PagerCore("p", 4096, new ObjectCatalog(Map.of("obj", 4096L), 4096), new PagerEnv() {
            @Override
            public void send(long sessionId, PagerToKernel message) {
                sent.add(message);
            }

            @Override
            public void endSession(long sessionId, Errno errno, String message) {}
        }, new PagerStats());
        KernelHello.Builder hello = KernelHello.newBuilder().setKernelName("k").setProtocolVersion(1)
                .addFeatures("lock_ranges");
        for (int i = 0; i < 100_000; i++) {
            hello.addFeatures("feature-" + i);
        }
        pager.sessionOpened(1);
        pager.onXp(1, KernelToPager.newBuilder().setKernelHello(hello).build());
        assertThat(sent).singleElement().matches(PagerToKernel::hasPagerWelcome);
        assertThat(pager.session(1).features).containsExactly("lock_ranges");
    }
}
