// Package textproc owns the English text analysis shared by indexing,
// compression and answering: tokenization with offsets, stop words,
// stemming and sentence segmentation.
//
// Every part of distill that compares a question with text goes through the
// same Analyzer, so a term means the same thing to the BM25 index, to the
// local compressors and to the extractive answerer.
package textproc
