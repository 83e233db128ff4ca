terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # This region's own state, in a bucket in this same region, so losing the
  # other region never blocks a plan or an apply here. Configured at init time
  # (docs/deployment.md):
  #   terraform init -backend-config=bucket=<state bucket in us-west-2> \
  #     -backend-config=key=pastebin/prod/region-b.tfstate -backend-config=region=us-west-2 \
  #     -backend-config=use_lockfile=true -backend-config=encrypt=true
  backend "s3" {}
}

# One provider, one region: nothing in this root calls the other region's APIs.
provider "aws" {
  region = var.region
  default_tags {
    tags = {
      Project     = "pastebin"
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}
