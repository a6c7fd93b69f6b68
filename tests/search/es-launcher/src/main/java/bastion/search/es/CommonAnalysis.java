package bastion.search.es;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.apache.lucene.analysis.LowerCaseFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.apache.lucene.analysis.util.CharTokenizer;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.AbstractTokenizerFactory;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

/**
 * The analysis components of the bastion's index template that Elasticsearch ships in its
 * {@code analysis-common} module, which Maven Central does not serve: the {@code char_group}
 * tokenizer and the {@code lowercase} and {@code asciifolding} token filters, with the same
 * names, settings and semantics, built on the same Lucene classes the module uses.
 */
public final class CommonAnalysis extends Plugin implements AnalysisPlugin {

    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        return Map.of("char_group", (indexSettings, env, name, settings) -> new CharGroup(name, settings));
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return Map.of(
            "lowercase", (indexSettings, env, name, settings) -> new Filter(name, false),
            "asciifolding", (indexSettings, env, name, settings) ->
                new Filter(name, settings.getAsBoolean("preserve_original", false)));
    }

    /** {@code lowercase} (no language) and {@code asciifolding}. */
    static final class Filter extends AbstractTokenFilterFactory {
        private final boolean preserveOriginal;

        Filter(String name, boolean preserveOriginal) {
            super(name);
            this.preserveOriginal = preserveOriginal;
        }

        @Override
        public TokenStream create(TokenStream in) {
            return name().equals("lowercase") ? new LowerCaseFilter(in) : new ASCIIFoldingFilter(in, preserveOriginal);
        }

        @Override
        public TokenStream normalize(TokenStream in) {
            return name().equals("lowercase") ? new LowerCaseFilter(in) : new ASCIIFoldingFilter(in, false);
        }
    }

    /** {@code char_group}: splits on the listed characters and character classes. */
    static final class CharGroup extends AbstractTokenizerFactory {
        private final Set<Integer> chars = new HashSet<>();
        private boolean letter;
        private boolean digit;
        private boolean whitespace;
        private boolean punctuation;
        private boolean symbol;
        private final int maxTokenLength;

        CharGroup(String name, Settings settings) {
            super(name);
            maxTokenLength = settings.getAsInt("max_token_length", CharTokenizer.DEFAULT_MAX_WORD_LEN);
            for (String c : settings.getAsList("tokenize_on_chars")) {
                if (c == null || c.isEmpty()) {
                    throw new IllegalArgumentException("[tokenize_on_chars] cannot contain empty characters");
                }
                if (c.length() == 1) {
                    chars.add((int) c.charAt(0));
                } else if (c.charAt(0) == '\\') {
                    chars.add(escaped(c));
                } else {
                    switch (c) {
                        case "letter" -> letter = true;
                        case "digit" -> digit = true;
                        case "whitespace" -> whitespace = true;
                        case "punctuation" -> punctuation = true;
                        case "symbol" -> symbol = true;
                        default -> throw new IllegalArgumentException("Invalid escaped char in [" + c + "]");
                    }
                }
            }
        }

        private static int escaped(String s) {
            String rest = s.substring(1);
            return switch (rest) {
                case "\\" -> '\\';
                case "n" -> '\n';
                case "t" -> '\t';
                case "r" -> '\r';
                case "b" -> '\b';
                case "f" -> '\f';
                case "'" -> '\'';
                case "\"" -> '"';
                default -> {
                    if (rest.startsWith("u") && rest.length() == 5) {
                        yield Integer.parseInt(rest.substring(1), 16);
                    }
                    throw new IllegalArgumentException("Invalid escaped char [" + s + "]");
                }
            };
        }

        private static boolean isPunctuation(int c) {
            return switch (Character.getType(c)) {
                case Character.START_PUNCTUATION, Character.END_PUNCTUATION, Character.OTHER_PUNCTUATION,
                     Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION,
                     Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION -> true;
                default -> false;
            };
        }

        private static boolean isSymbol(int c) {
            return switch (Character.getType(c)) {
                case Character.CURRENCY_SYMBOL, Character.MATH_SYMBOL, Character.OTHER_SYMBOL,
                     Character.MODIFIER_SYMBOL -> true;
                default -> false;
            };
        }

        boolean separates(int c) {
            return whitespace && Character.isWhitespace(c) || letter && Character.isLetter(c)
                || digit && Character.isDigit(c) || punctuation && isPunctuation(c)
                || symbol && isSymbol(c) || chars.contains(c);
        }

        @Override
        public Tokenizer create() {
            return new CharTokenizer(TokenStream.DEFAULT_TOKEN_ATTRIBUTE_FACTORY, maxTokenLength) {
                @Override
                protected boolean isTokenChar(int c) {
                    return !separates(c);
                }
            };
        }
    }
}
