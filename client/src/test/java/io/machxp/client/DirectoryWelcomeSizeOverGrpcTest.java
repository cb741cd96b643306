package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.PagerDirectory;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A correct kernel with a big directory starts beside a wrong first user of many objects, over
 * gRPC (dir2-review H2): the welcome listing the 100 disputed objects used to carry both whole
 * directories in each reason (5.4 MB with 4,000 assignments) and broke the stream with
 * RESOURCE_EXHAUSTED; now each reason is short, the start succeeds, and the disputed objects are
 * refused while the others map.
 */
class DirectoryWelcomeSizeOverGrpcTest {
    private final List<AutoCloseable> started = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = started.size() - 1; i >= 0; i--) {
            started.get(i).close();
        }
    }

    @Test
    void correctKernelStartsBesideAWrongUserOfManyObjects() throws Exception {
        Map<String, Long> objects = new TreeMap<>();
        for (int i = 0; i < 100; i++) {
            objects.put(String.format("data/tenant-%04d/segment", i), 64 * 1024L);
        }
        objects.put("free", 64 * 1024L);
        Pager p0 = Pager.start(new PagerConfig("p0", "127.0.0.1", 0, PagerConfig.DEFAULT_PAGE_SIZE, objects));
        started.add(p0);
        Pager p1 = Pager.start(new PagerConfig("p1", "127.0.0.1", 0, PagerConfig.DEFAULT_PAGE_SIZE, objects));
        started.add(p1);
        Kernel w = Kernel.start(KernelConfig.loopback("W", p0.target())
                .withCore(CoreOptions.DEFAULT.withPagers(PagerDirectory.of(1, Map.of()))));
        started.add(w);
        var tw = w.taskCreate("w");
        for (int i = 0; i < 100; i++) {
            tw.vmMap(String.format("data/tenant-%04d/segment", i));
        }
        Map<String, Integer> assign = new TreeMap<>();
        for (int i = 0; i < 4000; i++) {
            assign.put(String.format("data/tenant-%04d/segment", i), 1);
        }
        assign.put("free", 0);
        Kernel c = Kernel.start(KernelConfig.loopback("C", p0.target() + "," + p1.target())
                .withCore(CoreOptions.DEFAULT.withPagers(PagerDirectory.of(2, assign))));
        started.add(c);
        var tc = c.taskCreate("c");
        assertThat(tc.vmMap("free")).isNotNull();
        assertThatThrownBy(() -> tc.vmMap("data/tenant-0001/segment"))
                .hasMessageContaining("data/tenant-0001/segment").hasMessageContaining("'W'");
    }
}
