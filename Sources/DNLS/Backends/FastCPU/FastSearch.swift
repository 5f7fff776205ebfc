/// Fast CPU patch search (placeholder: the reference until the fast kernel lands).
func fastSearch(_ problem: SearchProblem<Float>) -> (distances: [Float], indices: [Int32]) {
    ReferenceBackend<Float>().search(problem)
}
