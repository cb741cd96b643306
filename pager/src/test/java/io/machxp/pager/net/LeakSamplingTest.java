package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.ResourceLeakDetector;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A pager process turns Netty's leak sampling off, unless its level was given as a system property. */
class LeakSamplingTest {
    private ResourceLeakDetector.Level before;
    private final Map<String, String> properties = new HashMap<>();

    private static List<String> names() {
        List<String> names = new ArrayList<>(LeakSampling.LEGACY_PROPERTIES);
        names.add(LeakSampling.PROPERTY);
        return names;
    }

    @BeforeEach
    void remember() {
        before = ResourceLeakDetector.getLevel();
        for (String name : names()) {
            properties.put(name, System.getProperty(name));
            System.clearProperty(name);
        }
    }

    @AfterEach
    void restore() {
        ResourceLeakDetector.setLevel(before);
        properties.forEach((name, value) -> {
            if (value == null) {
                System.clearProperty(name);
            } else {
                System.setProperty(name, value);
            }
        });
    }

    @Test
    void offWhenNotConfigured() {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);
        assertThat(LeakSampling.offUnlessConfigured()).isTrue();
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.DISABLED);
    }

    @Test
    void leftAsGiven() {
        System.setProperty(LeakSampling.PROPERTY, "paranoid");
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        assertThat(LeakSampling.offUnlessConfigured()).isFalse();
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
    }

    /** Netty's older level name is Netty's choice too (perfretry review, LOW-3). */
    @Test
    void leftAsGivenByTheOlderLevelProperty() {
        System.setProperty("io.netty.leakDetectionLevel", "advanced");
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.ADVANCED);
        assertThat(LeakSampling.offUnlessConfigured()).isFalse();
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.ADVANCED);
    }

    @Test
    void leftAsGivenByTheNoResourceLeakDetectionFlag() {
        System.setProperty("io.netty.noResourceLeakDetection", "false");
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);
        assertThat(LeakSampling.offUnlessConfigured()).isFalse();
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.SIMPLE);
    }
}
