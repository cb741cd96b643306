package io.machxp.cli;

import io.machxp.scenario.Durations;
import java.time.Duration;
import picocli.CommandLine;

/** A picocli option's duration: "10s", "250ms", "50us", "0", the same durations as scenario files. */
public final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
        try {
            return Duration.ofNanos(Durations.parse(value, "the option"));
        } catch (RuntimeException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
