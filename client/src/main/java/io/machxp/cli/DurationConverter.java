package io.machxp.cli;

import io.machxp.scenario.Durations;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * A picocli option's duration: "10s", "250ms", "50us", "0", the same durations as scenario files,
 * and whole minutes or hours ("10m", "1h"), as a run's length is written on a command line.
 */
public final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    private static final Pattern MINUTES_OR_HOURS = Pattern.compile("(\\d{1,9})\\s*(m|min|h)");

    @Override
    public Duration convert(String value) {
        try {
            return parse(value);
        } catch (IllegalArgumentException e) {
            // picocli puts "Invalid value for option '--NAME': " before it
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }

    /** The duration {@code text} says; an IllegalArgumentException saying how to write one if none. */
    static Duration parse(String text) {
        Matcher m = MINUTES_OR_HOURS.matcher(text.trim());
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return m.group(2).equals("h") ? Duration.ofHours(n) : Duration.ofMinutes(n);
        }
        try {
            return Duration.ofNanos(Durations.parse(text, "duration"));
        } catch (RuntimeException e) {
            boolean tooLong = e.getMessage() != null && e.getMessage().endsWith("is too long");
            throw new IllegalArgumentException("'" + text + "' " + (tooLong ? "is too long"
                    : "is not a duration; write it like 500ms, 1.5s, 10m or 0"));
        }
    }

    /** {@link #parse} for an option read as text: the message names the option. */
    static Duration parse(String text, String option) {
        try {
            return parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + " " + e.getMessage());
        }
    }
}
