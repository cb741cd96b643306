package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A pager process turns Netty's leak sampling off, unless its level was given as a system property. */
class LeakSamplingTest {
    private ResourceLeakDetector.Level before;
    private String property;

    @BeforeEach
    void remember() {
        before = ResourceLeakDetector.getLevel();
        property = System.getProperty(LeakSampling.PROPERTY);
    }

    @AfterEach
    void restore() {
        ResourceLeakDetector.setLevel(before);
        if (property == null) {
            System.clearProperty(LeakSampling.PROPERTY);
        } else {
            System.setProperty(LeakSampling.PROPERTY, property);
        }
    }

    @Test
    void offWhenNotConfigured() {
        System.clearProperty(LeakSampling.PROPERTY);
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
}
