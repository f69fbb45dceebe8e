# Reference values for dipcheck's stratified estimation, from R's survey package.
#
# Builds small stratified samples (written to survey_answers.csv and survey_design.csv),
# estimates each question's compliance among applicable cases with svymean() and
# svyciprop() on subset() designs with a finite population correction, and writes the
# results to survey_reference.csv. It also writes prop.trend.test() results to
# trend_reference.csv. Run from this folder:
#
#     Rscript make_survey_reference.R
#
# Needs R with the survey package (Debian: r-base-core, r-cran-survey).

suppressMessages(library(survey))
set.seed(20260401)

# Print every number with 17 significant digits so that no precision is lost.
format_numbers <- function(table) {
  table[] <- lapply(table, function(column) {
    if (is.numeric(column)) sprintf("%.17g", column) else column
  })
  table
}

answer_levels <- c("met", "not_met", "not_evidenced", "not_applicable")

# Draw answers for one stratum: probabilities of met, not_met, not_evidenced and
# not_applicable, in that order.
draw_stratum <- function(dataset, stratum, population, sample, probabilities) {
  answers <- sample(answer_levels, sample, replace = TRUE, prob = probabilities)
  enhanced <- sample(c(TRUE, FALSE), sample, replace = TRUE, prob = c(0.4, 0.6))
  data.frame(
    dataset = dataset,
    case_reference = sprintf("%s-%s-%03d", dataset, stratum, seq_len(sample)),
    stratum = stratum,
    population = population,
    answer = answers,
    enhanced = enhanced,
    stringsAsFactors = FALSE
  )
}

typical <- c(0.70, 0.15, 0.05, 0.10)
datasets <- list(
  # Unequal populations and sampling fractions.
  draw_stratum("unequal", "burglary", 400, 30, typical),
  draw_stratum("unequal", "violence", 150, 20, c(0.55, 0.25, 0.10, 0.10)),
  draw_stratum("unequal", "sexual", 60, 15, c(0.80, 0.10, 0.00, 0.10)),
  # A stratum with a single sampled case.
  draw_stratum("lonely", "burglary", 300, 25, typical),
  draw_stratum("lonely", "violence", 120, 12, typical),
  draw_stratum("lonely", "stalking", 40, 1, c(0, 1, 0, 0)),
  # No failures at all: every applicable case met.
  draw_stratum("no_failures", "burglary", 200, 20, c(0.9, 0, 0, 0.1)),
  draw_stratum("no_failures", "violence", 90, 10, c(0.8, 0, 0, 0.2)),
  # Every stratum fully sampled.
  draw_stratum("census", "burglary", 12, 12, typical),
  draw_stratum("census", "violence", 8, 8, typical),
  # One stratum fully sampled, the other not.
  draw_stratum("partial_census", "burglary", 500, 40, typical),
  draw_stratum("partial_census", "sexual", 9, 9, c(0.5, 0.3, 0.1, 0.1)),
  # One stratum that is a small part of a very large population.
  draw_stratum("single_stratum", "all", 1e9, 60, typical),
  # Few applicable cases, so few degrees of freedom.
  draw_stratum("sparse", "burglary", 250, 20, c(0.15, 0.05, 0.05, 0.75)),
  draw_stratum("sparse", "violence", 100, 10, c(0.10, 0.10, 0.00, 0.80))
)
cases <- do.call(rbind, datasets)

# Put a second question on every case so that each data set has two domains.
second <- cases
second$answer <- sample(answer_levels, nrow(cases), replace = TRUE, prob = c(0.5, 0.3, 0, 0.2))
# In the no-failures data set the second question has failures only in one stratum.
in_no_failures <- second$dataset == "no_failures"
second$answer[in_no_failures] <- ifelse(
  second$stratum[in_no_failures] == "burglary", "met", second$answer[in_no_failures]
)
cases$question_id <- "R4_REFERRAL"
second$question_id <- "R7_VPS_OFFERED"
answers <- rbind(cases, second)

write.csv(
  answers[, c("dataset", "case_reference", "stratum", "question_id", "answer", "enhanced")],
  "survey_answers.csv",
  row.names = FALSE
)
design <- aggregate(
  case_reference ~ dataset + stratum + population,
  data = cases,
  FUN = length
)
names(design)[names(design) == "case_reference"] <- "sample"
design <- design[order(design$dataset, design$stratum), ]
write.csv(design, "survey_design.csv", row.names = FALSE)

# Estimate one domain of one data set and question.
estimate_domain <- function(rows, domain, lonely_psu, level) {
  options(survey.lonely.psu = lonely_psu)
  rows$y <- as.numeric(rows$answer == "met")
  rows$applicable <- rows$answer != "not_applicable"
  rows$in_domain <- rows$applicable & (domain == "all" | rows$enhanced)
  design <- svydesign(ids = ~1, strata = ~stratum, fpc = ~population, data = rows)
  domain_design <- subset(design, in_domain)
  mean <- svymean(~y, domain_design, deff = TRUE)
  beta <- suppressWarnings(svyciprop(~y, domain_design, method = "beta", level = level))
  logit <- suppressWarnings(svyciprop(~y, domain_design, method = "logit", level = level))
  data.frame(
    dataset = rows$dataset[1],
    question_id = rows$question_id[1],
    domain = domain,
    lonely_psu = lonely_psu,
    confidence = level,
    applicable = sum(rows$in_domain),
    estimate = unname(coef(mean)),
    standard_error = unname(SE(mean)),
    design_effect = unname(deff(mean)),
    degrees_of_freedom = degf(domain_design),
    beta_lower = unname(attr(beta, "ci")[1]),
    beta_upper = unname(attr(beta, "ci")[2]),
    logit_lower = unname(attr(logit, "ci")[1]),
    logit_upper = unname(attr(logit, "ci")[2])
  )
}

results <- list()
for (dataset in unique(answers$dataset)) {
  for (question in unique(answers$question_id)) {
    rows <- answers[answers$dataset == dataset & answers$question_id == question, ]
    for (domain in c("all", "enhanced")) {
      for (lonely_psu in c("adjust", "certainty")) {
        for (level in c(0.95, 0.90)) {
          results[[length(results) + 1]] <- estimate_domain(rows, domain, lonely_psu, level)
        }
      }
    }
  }
}
results <- do.call(rbind, results)
write.csv(format_numbers(results), "survey_reference.csv", row.names = FALSE, quote = FALSE)

# Chi-squared test for trend in proportions over quarters.
trend_cases <- list(
  list(name = "rising", met = c(40, 45, 52, 60), applicable = c(70, 72, 75, 74)),
  list(name = "flat", met = c(50, 49, 51, 50), applicable = c(70, 70, 70, 70)),
  list(name = "falling_three", met = c(30, 22, 15), applicable = c(35, 33, 30)),
  list(name = "uneven", met = c(12, 30, 8, 25, 40), applicable = c(20, 41, 15, 30, 49))
)
trend <- do.call(rbind, lapply(trend_cases, function(case) {
  test <- prop.trend.test(case$met, case$applicable)
  data.frame(
    name = case$name,
    met = paste(case$met, collapse = ";"),
    applicable = paste(case$applicable, collapse = ";"),
    statistic = unname(test$statistic),
    p_value = test$p.value
  )
}))
write.csv(format_numbers(trend), "trend_reference.csv", row.names = FALSE, quote = FALSE)
