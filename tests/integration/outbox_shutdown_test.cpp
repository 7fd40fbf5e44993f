// Graceful stop with outbox work in flight: the service stops claiming, lets the SMS send that
// is under way finish and be recorded, and only then closes the database pool; the send is not
// left leased (to be sent again by whoever takes the lease over).
#include "flow_fixture.hpp"

namespace visitpay::testing {
namespace {

class OutboxShutdownTest : public FlowTest {};

TEST_F(OutboxShutdownTest, AnSmsSendInFlightAtStopIsRecordedBeforeThePoolCloses) {
  // The gateway holds the send until the adapter's timeout (3 s): its outcome is unknown.
  link_->inject("timeout");
  const auto id = checkout("V-STOP-1");
  ASSERT_TRUE(eventually([&] { return link_->send_calls() == 1; }));
  ASSERT_EQ(count("SELECT count(*) FROM outbox WHERE kind = 'send_payment_sms' "
                  "AND lease_owner IS NOT NULL"),
            1);  // claimed and in flight

  service_->service().request_stop();
  service_->service().wait();

  // Recorded by the stopping instance: not leased any more, one attempt, a reason written.
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE kind = 'send_payment_sms' "
                  "AND lease_owner IS NULL AND lease_until IS NULL AND attempts = 1 "
                  "AND (status = 'done' OR last_error IS NOT NULL)"),
            1);
  EXPECT_EQ(link_->send_calls(), 1u);
  EXPECT_FALSE(id.empty());
}

}  // namespace
}  // namespace visitpay::testing
