package textproc

// LuceneStopWords is Lucene's English stop set (EnglishAnalyzer.ENGLISH_STOP_WORDS_SET).
var LuceneStopWords = []string{
	"a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in",
	"into", "is", "it", "no", "not", "of", "on", "or", "such", "that", "the",
	"their", "then", "there", "these", "they", "this", "to", "was", "will", "with",
}

// snowballExtra completes LuceneStopWords to the Snowball English stop list,
// plus the interrogatives that open questions.
var snowballExtra = []string{
	"i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your",
	"yours", "yourself", "yourselves", "he", "him", "his", "himself", "she",
	"her", "hers", "herself", "its", "itself", "them", "theirs", "themselves",
	"what", "which", "who", "whom", "whose", "when", "where", "why", "how",
	"those", "am", "were", "been", "being", "have", "has", "had", "having",
	"do", "does", "did", "doing", "would", "should", "could", "ought", "can",
	"may", "might", "must", "shall", "i'm", "you're", "he's", "she's", "it's",
	"we're", "they're", "i've", "you've", "we've", "they've", "i'd", "you'd",
	"he'd", "she'd", "we'd", "they'd", "i'll", "you'll", "he'll", "she'll",
	"we'll", "they'll", "isn't", "aren't", "wasn't", "weren't", "hasn't",
	"haven't", "hadn't", "doesn't", "don't", "didn't", "won't", "wouldn't",
	"shan't", "shouldn't", "can't", "cannot", "couldn't", "mustn't", "let's",
	"that's", "who's", "what's", "here's", "there's", "when's", "where's",
	"why's", "how's", "because", "until", "while", "about", "against",
	"between", "through", "during", "before", "after", "above", "below",
	"from", "up", "down", "out", "off", "over", "under", "again", "further",
	"once", "here", "all", "any", "both", "each", "few", "more", "most",
	"other", "some", "nor", "only", "own", "same", "so", "than", "too", "very",
	"also", "tell", "describe", "explain", "say", "says", "said", "mention",
	"mentioned", "according", "please", "much", "many",
}
