-- Users whose subscription fields contradict each other. The free tier is always active and never renews; a paid
-- subscription that is active, trialing or past due has a renewal date; a canceled one has none.
SELECT id, subscription_tier, subscription_status, subscription_renews_at
  FROM users
 WHERE (subscription_tier = 'free' AND (subscription_status <> 'active' OR subscription_renews_at IS NOT NULL))
    OR (subscription_tier <> 'free' AND subscription_status IN ('active', 'trialing', 'past_due') AND subscription_renews_at IS NULL)
    OR (subscription_status = 'canceled' AND subscription_renews_at IS NOT NULL)
 ORDER BY id;
